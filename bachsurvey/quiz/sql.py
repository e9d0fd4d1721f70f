"""All the hand-written SQL of bachsurvey: the quiz's busy reads as plain rows, one statement
each (the live questions a quiz is drawn from, a participant's quiz, what one of its clip URLs
opens), and its busy writes (a start's assignments, an answer, the clip bytes sent).

Why it exists: a quiz start reads the live pool; every quiz request (start, answer, progress)
reads the participant's five questions with their clips and answers. Through the ORM those
queries (``select_related`` over five or six tables) and their model instances were built on
every request, the largest part of an answer's time in the web process under load, and a start
built a model instance for every live question. Written out, with the inserts too, a request's
CPU roughly halved (docs/results.md, "Benchmarks": the load benchmark, benchmarks/load).
Everything else goes through the ORM.

The SQL is portable (PostgreSQL, and SQLite for a fresh checkout); table names come from the
models' metadata. The tests of the API and the services run every branch of it against
PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bachsurvey.models import (
    Answer,
    Assignment,
    Batch,
    Chorale,
    Clip,
    ClipDelivery,
    Participant,
    Question,
    Side,
)

T = TypeVar("T")

# --- values in and out, as each database stores them (PostgreSQL, and SQLite for a fresh clone) --


def uuid_param(value: object) -> object:
    """A UUID as a query parameter (PostgreSQL: a uuid; SQLite: 32 hex digits)."""
    return Participant._meta.pk.get_db_prep_value(value, connection)


def as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def datetime_param(value: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)


def as_datetime(value: object) -> datetime | None:
    """An aware datetime from a column (SQLite gives naive UTC, as text or parsed)."""
    if value is None:
        return None
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise TypeError(f"not a datetime: {value!r}")
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def placeholders(count: int) -> str:
    """'%s, %s, …' for an IN list (portable, unlike PostgreSQL's = ANY(array))."""
    return ", ".join(["%s"] * count)


def table(model: type[Model]) -> str:
    """The model's table name, quoted as Django quotes it (both databases quote alike)."""
    return connection.ops.quote_name(model._meta.db_table)


_TABLES = {
    "batch": table(Batch),
    "chorale": table(Chorale),
    "participant": table(Participant),
    "assignment": table(Assignment),
    "question": table(Question),
    "clip": table(Clip),
    "answer": table(Answer),
    "delivery": table(ClipDelivery),
}

# Nothing of a generation batch that is not done is served, whatever its questions say.
_LIVE_SQL = """
SELECT q.id, q.category, real_chorale.id, real_chorale.source,
       generated_chorale.id, generated_chorale.source
FROM {question} q
JOIN {clip} real ON real.id = q.clip_real_id
JOIN {chorale} real_chorale ON real_chorale.id = real.chorale_id
JOIN {clip} generated ON generated.id = q.clip_generated_id
JOIN {chorale} generated_chorale ON generated_chorale.id = generated.chorale_id
LEFT JOIN {batch} batch ON batch.id = generated_chorale.batch_id
WHERE q.live AND (batch.id IS NULL OR batch.status NOT IN ({not_served}))
ORDER BY q.id
""".format(**_TABLES, not_served=placeholders(len(Batch.NOT_SERVED)))

# One row per assignment (or one row of NULLs for a participant without any: withdrawn).
_QUIZ_SQL = """
SELECT p.finished_at, p.withdrawn_at, p.created_at,
       a.id, a.question_id, a.position, a.bach_side, q.category, a.media_key,
       real.audio_bytes, generated.audio_bytes,
       answer.choice, answer.correct, answer.created_at, real.audio, generated.audio,
       real_chorale.source, real_chorale.title
FROM {participant} p
LEFT JOIN {assignment} a ON a.participant_id = p.id
LEFT JOIN {question} q ON q.id = a.question_id
LEFT JOIN {clip} real ON real.id = q.clip_real_id
LEFT JOIN {chorale} real_chorale ON real_chorale.id = real.chorale_id
LEFT JOIN {clip} generated ON generated.id = q.clip_generated_id
LEFT JOIN {answer} answer ON answer.assignment_id = a.id
WHERE p.id = %s
ORDER BY a.position
""".format(**_TABLES)

# What a clip URL opens (bachsurvey.quiz.clip_urls): the assignment's two clips and its owner.
_MEDIA_SQL = """
SELECT a.id, a.participant_id, a.bach_side, p.finished_at, answer.id,
       real.audio, real.audio_bytes, real.score,
       generated.audio, generated.audio_bytes, generated.score
FROM {assignment} a
JOIN {participant} p ON p.id = a.participant_id
JOIN {question} q ON q.id = a.question_id
JOIN {clip} real ON real.id = q.clip_real_id
JOIN {clip} generated ON generated.id = q.clip_generated_id
LEFT JOIN {answer} answer ON answer.assignment_id = a.id
WHERE a.media_key = %s
""".format(**_TABLES)


@dataclass(frozen=True)
class Drawable:
    """A live question, as the draw of a quiz sees it."""

    pk: uuid.UUID
    category: str
    # What a participant must not meet twice: the corpus ids behind it ("#<pk>" for a piece
    # that has none, a free composition).
    chorales: frozenset[str]


def live_questions() -> list[Drawable]:
    """Every question that may be served now, in a fixed order (by id)."""
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_SQL, [str(status) for status in Batch.NOT_SERVED])
        rows = cursor.fetchall()
    return [
        Drawable(
            as_uuid(pk),
            category,
            frozenset({real or f"#{real_id}", generated or f"#{generated_id}"}),
        )
        for pk, category, real_id, real, generated_id, generated in rows
    ]


@dataclass(frozen=True)
class QuizItem:
    """One assigned question as its participant sees it, and their answer if given."""

    assignment_id: int
    question_id: uuid.UUID
    position: int
    category: str
    bach_side: str  # "A" or "B"
    media_key: str  # the stem of this assignment's clip URLs (bachsurvey.quiz.clip_urls)
    audio: dict[str, str]  # side -> the clip's audio file (a storage name; never sent out)
    audio_bytes: dict[str, int]  # side -> size of the clip's audio file
    choice: str | None  # None until answered
    correct: bool | None
    answered_at: datetime | None
    # The Bach side's chorale (corpus id, title): for the reveal, sent only once answered.
    bach_source: str = ""
    bach_title: str = ""

    @property
    def answered(self) -> bool:
        return self.choice is not None


@dataclass(frozen=True)
class Quiz:
    participant_id: uuid.UUID
    started_at: datetime
    finished_at: datetime | None
    withdrawn_at: datetime | None
    items: list[QuizItem]  # in quiz order

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def answered(self) -> int:
        return sum(item.answered for item in self.items)


def _by_side(bach_side: str, real: T, generated: T) -> dict[str, T]:
    return {side: real if side == bach_side else generated for side in Side.values}


def quiz_of(participant_id: object, *, lock: bool = False) -> Quiz | None:
    """The participant's quiz, or None if there is no such participant.

    ``lock``: also lock the participant's row until the transaction ends (the caller holds one),
    so that concurrent writes for one participant take turns.
    """
    locking = lock and connection.features.has_select_for_update  # SQLite: writes take turns
    sql = _QUIZ_SQL + (" FOR UPDATE OF p" if locking else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [uuid_param(participant_id)])
        rows = cursor.fetchall()
    if not rows:
        return None
    finished_at, withdrawn_at, started_at = (as_datetime(value) for value in rows[0][:3])
    assert started_at is not None  # a NOT NULL column
    items = [
        QuizItem(
            assignment_id=row[3],
            question_id=as_uuid(row[4]),
            position=row[5],
            bach_side=row[6],
            category=row[7],
            media_key=row[8],
            audio=_by_side(row[6], row[14], row[15]),
            audio_bytes=_by_side(row[6], row[9], row[10]),
            choice=row[11],
            correct=None if row[12] is None else bool(row[12]),
            answered_at=as_datetime(row[13]),
            bach_source=row[16] or "",
            bach_title=row[17] or "",
        )
        for row in rows
        if row[3] is not None
    ]
    return Quiz(as_uuid(participant_id), started_at, finished_at, withdrawn_at, items)


@dataclass(frozen=True)
class MediaRow:
    """One assignment as its clip URLs need it."""

    assignment_id: int
    participant_id: uuid.UUID
    finished_at: datetime | None
    answered: bool
    audio: dict[str, str]  # side -> storage name under MEDIA_ROOT
    audio_bytes: dict[str, int]
    score: dict[str, str]


def media_row(media_key: str) -> MediaRow | None:
    """The assignment whose clip URLs start with ``media_key``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_MEDIA_SQL, [media_key])
        row = cursor.fetchone()
    if row is None:
        return None
    bach = row[2]
    return MediaRow(
        assignment_id=row[0],
        participant_id=as_uuid(row[1]),
        finished_at=as_datetime(row[3]),
        answered=row[4] is not None,
        audio=_by_side(bach, row[5], row[8]),
        audio_bytes=_by_side(bach, row[6], row[9]),
        score=_by_side(bach, row[7], row[10]),
    )


# --- writes --------------------------------------------------------------------------------------

_INSERT_ASSIGNMENT = """INSERT INTO {assignment}
    (participant_id, question_id, position, bach_side, media_key) VALUES """.format(**_TABLES)

# On the busiest request, building this INSERT through Answer.objects.create cost more CPU than
# PostgreSQL spends running it.
_INSERT_ANSWER = """INSERT INTO {answer}
    (assignment_id, choice, correct, response_ms, elapsed_ms, plays, heard_fully, served,
     server_elapsed_ms, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
""".format(**_TABLES)

_INSERT_DELIVERY = """INSERT INTO {delivery}
    (assignment_id, side, first_byte, last_byte, created_at) VALUES (%s, %s, %s, %s, %s)
""".format(**_TABLES)

_DELIVERED_SQL = """SELECT side, first_byte, last_byte FROM {delivery}
WHERE assignment_id = %s""".format(**_TABLES)


_JSON = Answer._meta.get_field("plays")  # how a JSONField's value goes to this database


def _json(value: object) -> object:
    return _JSON.get_db_prep_value(value, connection)


def insert_assignments(participant_id: object, rows: list[tuple[object, int, str, str]]) -> None:
    """The participant's assignments: (question id, position, Bach's side, media key) each."""
    participant = uuid_param(participant_id)
    values = [
        value
        for question_id, position, side, media_key in rows
        for value in (participant, uuid_param(question_id), position, side, media_key)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ASSIGNMENT + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)), values)


def insert_answer(
    *,
    assignment_id: int,
    choice: str,
    correct: bool,
    response_ms: int,
    elapsed_ms: int | None,
    plays: dict[str, int],
    heard_fully: dict[str, bool],
    served: dict[str, float | None],
    server_elapsed_ms: int,
    created_at: datetime,
) -> None:
    """One answer; IntegrityError when the assignment has one already (its unique constraint)."""
    values = [
        assignment_id,
        choice,
        correct,
        response_ms,
        elapsed_ms,
        _json(plays),
        _json(heard_fully),
        _json(served),
        server_elapsed_ms,
        datetime_param(created_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ANSWER, values)


def insert_deliveries(rows: list[tuple[int, str, int, int, datetime]]) -> None:
    """Clip bytes sent: (assignment id, side, first byte, last byte, when) each."""
    with connection.cursor() as cursor:
        for assignment_id, side, first, last, when in rows:
            cursor.execute(
                _INSERT_DELIVERY, [assignment_id, side, first, last, datetime_param(when)]
            )


def delivered_ranges(assignment_id: int) -> list[tuple[str, int, int]]:
    """The byte ranges sent of an assignment's clips: (side, first byte, last byte) each."""
    with connection.cursor() as cursor:
        cursor.execute(_DELIVERED_SQL, [assignment_id])
        return cursor.fetchall()
