"""Everything that writes survey data, each in one transaction (HackSoft-style services).

The API and the pages call these; they never touch models directly for writes. Refusals are
typed errors (SurveyError subclasses) that the API maps to HTTP statuses.

Drawing questions (SPEC §7, avoiding BachBot's flaws): five live questions, one single-voice
(S, A, T or B: the voice first, uniformly among voices that have questions, so a voice with many
questions is not over-served), one AT, one ATB and two SATB, without replacement, in random order.
Besides, no two questions of one participant share a chorale (by its corpus id): hearing the same
Bach twice, once re-harmonized, would give the second answer away.

Which side holds Bach: drawn for every assignment from a cryptographic source (draw_sides). A
position effect then averages out over participants instead of being balanced by a rule that
others' quizzes would reveal; the statistics report accuracy with Bach on each side.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from bachsurvey import clip_urls
from bachsurvey.models import (
    SINGLE_VOICE,
    Answer,
    Assignment,
    Category,
    Participant,
    Side,
    new_media_key,
)
from bachsurvey.quiz_rows import (
    Drawable,
    Quiz,
    QuizItem,
    datetime_param,
    live_questions,
    quiz_of,
    table,
    uuid_param,
)

QUESTIONS_PER_PARTICIPANT = 5
SLOTS: tuple[tuple[str, ...], ...] = (
    tuple(SINGLE_VOICE),
    (Category.AT,),
    (Category.ATB,),
    (Category.SATB,),
    (Category.SATB,),
)
DRAW_TRIES = 200  # random restarts before concluding the live pool cannot fill a quiz
MAX_RESPONSE_MS = 60 * 60 * 1000


class SurveyError(Exception):
    """A refused request; ``code`` is stable for clients, the message is for people."""

    code = "refused"


class NotEnoughQuestions(SurveyError):
    code = "not_enough_questions"


class ParticipantWithdrawn(SurveyError):
    code = "withdrawn"


class UnknownParticipant(SurveyError):
    code = "not_found"


class NotAssigned(SurveyError):
    code = "not_assigned"


class AlreadyAnswered(SurveyError):
    code = "already_answered"


class OutOfOrder(SurveyError):
    code = "out_of_order"


# --- drawing a quiz ------------------------------------------------------------------------------


def draw_questions(rng: random.Random) -> list[Drawable]:
    """Five live questions per SLOTS, no repeats, no shared chorale, in random order."""
    by_category: dict[str, list[Drawable]] = {}
    for question in live_questions():  # a fixed order, so a seeded rng draws reproducibly
        by_category.setdefault(question.category, []).append(question)
    for _ in range(DRAW_TRIES):
        chosen: list[Drawable] = []
        used: set[str] = set()
        for slot in SLOTS:
            usable = {
                category: [q for q in by_category.get(category, []) if not q.chorales & used]
                for category in slot
            }
            categories = [c for c in slot if usable[c]]
            if not categories:
                break
            question = rng.choice(usable[rng.choice(categories)])
            chosen.append(question)
            used |= question.chorales
        else:
            rng.shuffle(chosen)
            return chosen
    raise NotEnoughQuestions(
        "There are not enough live questions to build a quiz; please come back later."
    )


def draw_sides(count: int) -> list[str]:
    """Bach's side for each of ``count`` assignments, each drawn on its own from the operating
    system's cryptographic source: nobody can predict it from other participants' sides (the
    earlier rule, the side held less often, let consecutive participants alternate 3 times in
    4), and no seed set in a test or a worker can make it repeat."""
    return [secrets.choice(Side.values) for _ in range(count)]


# --- participants --------------------------------------------------------------------------------


def create_participant(
    *, age_group: str, experience: str, attempt: int = 1, rng: random.Random | None = None
) -> Participant:
    """A consenting participant with five assigned questions (consent is checked by the API)."""
    rng = rng or random.SystemRandom()
    with transaction.atomic():
        questions = draw_questions(rng)
        participant = Participant.objects.create(
            consented_at=timezone.now(),
            age_group=age_group,
            experience=experience,
            attempt=attempt,
        )
        ids = [q.pk for q in questions]
        rows = [
            (uuid_param(participant.pk), uuid_param(question), position, side, new_media_key())
            for position, (question, side) in enumerate(zip(ids, draw_sides(len(ids)), strict=True))
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table(Assignment)} "
                "(participant_id, question_id, position, bach_side, media_key) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows)),
                [value for row in rows for value in row],
            )
    return participant


@dataclass(frozen=True)
class Submitted:
    """A stored answer (as its question's item of the quiz) and the progress after it."""

    item: QuizItem
    answered: int
    finished: bool


# Written out rather than through Answer.objects.create (see bachsurvey.quiz_rows: on the busiest
# request, building the INSERT cost more CPU than PostgreSQL spends running it).
_INSERT_ANSWER = f"""INSERT INTO {table(Answer)}
    (assignment_id, choice, correct, response_ms, elapsed_ms, plays, heard_fully, served,
     server_elapsed_ms, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_JSON = Answer._meta.get_field("plays")  # how a JSONField's value goes to this database


def submit_answer(
    *,
    participant_id: object,
    question_id: object,
    choice: str,
    response_ms: int,
    plays: dict[str, int],
    heard_fully: dict[str, bool],
    elapsed_ms: int | None = None,
) -> Submitted:
    """Store one answer the moment it is given; any refusal changes nothing.

    Questions are answered in their assigned order: the page shows one at a time, and an
    answer to a later question means a client that skipped (or a script).

    Returns only after the transaction has committed, with everything the API's reply needs, so
    the reply reads nothing more from the database: a 201 means the answer is stored, and an
    outage after the commit cannot turn a stored answer into an error reply.
    """
    with transaction.atomic():
        # Row lock: two concurrent submissions for one participant are handled one after the other.
        # (Read here once, with the lock, not before as well: the API passes the session's id.)
        quiz = quiz_of(participant_id, lock=True)
        if quiz is None:
            raise UnknownParticipant("No such participant.")
        if quiz.withdrawn:
            raise ParticipantWithdrawn("You have withdrawn from the study; nothing was stored.")
        item = next((i for i in quiz.items if str(i.question_id) == str(question_id)), None)
        if item is None:
            raise NotAssigned("This question is not part of your quiz.")
        if item.answered:
            raise AlreadyAnswered(
                "You have already answered this question; the first answer stands."
            )
        pending = next(i for i in quiz.items if not i.answered)
        if pending.position != item.position:
            raise OutOfOrder(f"Please answer question {pending.position + 1} first.")
        now = timezone.now()
        stored = replace(item, choice=choice, correct=choice == item.bach_side, answered_at=now)
        # The server's own account, which a script cannot fake: how much of each clip it sent,
        # and how long since the previous answer (or the start) this answer came.
        served = clip_urls.served_fractions(item.assignment_id, item.audio_bytes)
        previous = quiz.items[item.position - 1].answered_at if item.position else quiz.started_at
        server_elapsed = round((now - (previous or quiz.started_at)).total_seconds() * 1000)
        values = [
            item.assignment_id,
            choice,
            stored.correct,
            min(response_ms, MAX_RESPONSE_MS),
            None if elapsed_ms is None else min(elapsed_ms, MAX_RESPONSE_MS),
            _JSON.get_db_prep_value({side: int(plays[side]) for side in Side.values}, connection),
            _JSON.get_db_prep_value(
                {side: bool(heard_fully[side]) for side in Side.values}, connection
            ),
            _JSON.get_db_prep_value(served, connection),
            min(max(server_elapsed, 0), MAX_RESPONSE_MS),
            datetime_param(now),
        ]
        try:
            # No savepoint of its own (two round trips fewer): on a constraint error the whole
            # transaction is rolled back as the refusal leaves it, which is what a refusal wants.
            with connection.cursor() as cursor:
                cursor.execute(_INSERT_ANSWER, values)
        except IntegrityError:  # the one-to-one constraint: a concurrent duplicate won the race
            raise AlreadyAnswered("You have already answered this question.") from None
        answered = quiz.answered + 1  # this one included
        finished = answered == len(quiz.items)
        if finished:
            Participant.objects.filter(pk=quiz.participant_id).update(finished_at=now)
    return Submitted(item=stored, answered=answered, finished=finished)


def withdraw(participant: Participant) -> int:
    """Delete the participant's answers, questions and background; keep a bare tombstone.

    The tombstone (id, dates) lets a returning browser be told its answers are gone. Returns
    how many answers were deleted; withdrawing twice deletes nothing more.
    """
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        deleted = Answer.objects.filter(assignment__participant=participant).count()
        participant.assignments.all().delete()  # answers and clip deliveries cascade
        participant.age_group = participant.experience = ""
        participant.withdrawn_at = participant.withdrawn_at or timezone.now()
        participant.save(update_fields=["age_group", "experience", "withdrawn_at"])
    return deleted


# --- progress and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryResult:
    category: str
    label: str
    your_correct: int
    your_answered: int
    everyone_correct: int
    everyone_answered: int

    @property
    def everyone_accuracy(self) -> float | None:
        return self.everyone_correct / self.everyone_answered if self.everyone_answered else None


@dataclass(frozen=True)
class Results:
    correct: int
    answered: int
    categories: list[CategoryResult]
    everyone_participants: int
    everyone_correct: int
    everyone_answered: int
    score_distribution: list[int]  # finished participants by number of correct answers, 0..5


# Everyone's figures aggregate every answer, so their cost grows with the survey: at a few
# thousand answers they were most of a results request, and on a busy day they would be all of
# it. They are computed at most once per EVERYONE_CACHE_SECONDS per cache (per process with the
# default local-memory cache, once for all processes with Redis), by one request while the others
# go on with the previous snapshot: when every web process recomputed it at once, each expiry put
# that many copies of the aggregation on PostgreSQL (about 0.1 s each at 50,000 answers) and
# into the latency of the answers waiting behind them. So everyone's figures may lag others'
# latest answers by up to twice EVERYONE_CACHE_SECONDS; a participant's own answers always count
# (see results()).
EVERYONE_CACHE_SECONDS = 10
_EVERYONE_KEY = "bachsurvey:results:everyone"
_EVERYONE_REFRESH_KEY = "bachsurvey:results:everyone:refreshing"
_EVERYONE_KEPT_SECONDS = 3600  # a stale snapshot, served while one request renews it


@dataclass(frozen=True)
class Everyone:
    """Everyone's figures as of ``until``: answers stored and participants finished by then."""

    until: datetime
    by_category: dict[str, tuple[int, int]]  # answered, correct
    participants: int
    distribution: list[int]  # finished participants by number of correct answers, 0..5


def _everyone(until: datetime) -> Everyone:
    answers = Answer.objects.filter(created_at__lte=until)
    rows = answers.values(category=F("assignment__question__category")).annotate(
        n=Count("id"), correct=Count("id", filter=Q(correct=True))
    )
    scores = (
        Participant.objects.filter(finished_at__lte=until, withdrawn_at__isnull=True)
        .annotate(score=Count("assignments", filter=Q(assignments__answer__correct=True)))
        .values_list("score", flat=True)
    )
    distribution = [0] * (QUESTIONS_PER_PARTICIPANT + 1)
    for score in scores:
        distribution[min(score, QUESTIONS_PER_PARTICIPANT)] += 1
    return Everyone(
        until=until,
        by_category={row["category"]: (row["n"], row["correct"]) for row in rows},
        participants=answers.values("assignment__participant").distinct().count(),
        distribution=distribution,
    )


def everyone_so_far() -> Everyone:
    """Everyone's figures: the cached snapshot while it is recent; when it is older than
    EVERYONE_CACHE_SECONDS, the first request to see that (of all processes sharing the cache)
    renews it and the others serve the old one meanwhile; without any snapshot, a new one."""
    now = timezone.now()
    try:
        snapshot = cache.get(_EVERYONE_KEY)
        stale = snapshot is not None and (now - snapshot.until).total_seconds() >= (
            EVERYONE_CACHE_SECONDS
        )
        if stale and not cache.add(_EVERYONE_REFRESH_KEY, True, EVERYONE_CACHE_SECONDS):
            return snapshot  # another request is renewing it
    except Exception:  # a cache that is down (Redis) costs freshness, never the request
        snapshot, stale = None, False
    if snapshot is None or stale:
        snapshot = _everyone(until=now)
        try:
            cache.set(_EVERYONE_KEY, snapshot, _EVERYONE_KEPT_SECONDS)
        except Exception:
            pass
    return snapshot


def results(quiz: Quiz) -> Results:
    """The participant's score and everyone's so far (withdrawn answers are already deleted).

    Everyone's figures come from a snapshot up to about twice EVERYONE_CACHE_SECONDS old (see
    everyone_so_far); the participant's own answers (and finish) that are newer than the
    snapshot are added to it, so "everyone" never shows less than "you".
    """
    mine = [(i.category, i.correct, i.answered_at) for i in quiz.items if i.answered]
    snapshot = everyone_so_far()
    yours: Counter[tuple[str, bool]] = Counter((category, ok) for category, ok, _ in mine)
    newer: Counter[tuple[str, bool]] = Counter(
        (category, ok) for category, ok, at in mine if at > snapshot.until
    )
    categories = []
    for category in Category:
        answered, correct = snapshot.by_category.get(category, (0, 0))
        categories.append(
            CategoryResult(
                category=category.value,
                label=category.label,
                your_correct=yours[(category, True)],
                your_answered=yours[(category, True)] + yours[(category, False)],
                everyone_correct=correct + newer[(category, True)],
                everyone_answered=answered + newer[(category, True)] + newer[(category, False)],
            )
        )
    correct = sum(c.your_correct for c in categories)
    distribution = list(snapshot.distribution)
    finished = quiz.finished_at
    if finished is not None and finished > snapshot.until and not quiz.withdrawn:
        distribution[min(correct, QUESTIONS_PER_PARTICIPANT)] += 1
    counted = any(at <= snapshot.until for *_, at in mine)  # the snapshot holds you already
    return Results(
        correct=correct,
        answered=len(mine),
        categories=categories,
        everyone_participants=snapshot.participants + (1 if mine and not counted else 0),
        everyone_correct=sum(c.everyone_correct for c in categories),
        everyone_answered=sum(c.everyone_answered for c in categories),
        score_distribution=distribution,
    )
