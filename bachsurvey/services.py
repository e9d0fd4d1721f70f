"""Everything that writes survey data, each in one transaction (HackSoft-style services).

The API and the pages call these; they never touch models directly for writes. Refusals are
typed errors (SurveyError subclasses) that the API maps to HTTP statuses.

Drawing questions (SPEC §7, avoiding BachBot's flaws): five live questions, one single-voice
(S, A, T or B: the voice first, uniformly among voices that have questions, so a voice with many
questions is not over-served), one AT, one ATB and two SATB, without replacement, in random order.
Besides, no two questions of one participant share a chorale (by its corpus id): hearing the same
Bach twice, once re-harmonized, would give the second answer away.

Which side holds Bach: per question, the side Bach has held less often so far among all
assignments of that question, a fair coin on a tie. Every question's position effect therefore
cancels out across participants (counts never differ by more than one: the counts are counters
on the question rows, and concurrent sign-ups sharing a question take turns on its row), while no
participant can predict a side without knowing everyone else's assignments.
"""

from __future__ import annotations

import random
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from bachsurvey.models import (
    SINGLE_VOICE,
    Answer,
    Assignment,
    Batch,
    Category,
    Chorale,
    Clip,
    Participant,
    Question,
    Side,
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


class InvalidContent(SurveyError):
    code = "invalid_content"


# --- drawing a quiz ------------------------------------------------------------------------------


def _chorale_keys(question: Question) -> set[str]:
    """What a participant must not meet twice: the corpus ids (or, if free, the rows) behind it."""
    chorales = (question.clip_real.chorale, question.clip_generated.chorale)
    return {c.source or f"#{c.pk}" for c in chorales}


def draw_questions(rng: random.Random) -> list[Question]:
    """Five live questions per SLOTS, no repeats, no shared chorale, in random order."""
    # Nothing of a generation batch that is not done is served, whatever its questions say.
    live = (
        Question.objects.filter(live=True)
        .exclude(clip_generated__chorale__batch__status__in=Batch.NOT_SERVED)
        .select_related("clip_real__chorale", "clip_generated__chorale")
        # Only what the draw reads: a chorale row also holds its whole token stream and style
        # report (JSON decoded per row), which made this query most of a quiz start's time.
        .only("id", "category", "clip_real__chorale__source", "clip_generated__chorale__source")
    )
    by_category: dict[str, list[Question]] = {}
    for question in live.order_by("id"):  # a fixed order, so a seeded rng draws reproducibly
        by_category.setdefault(question.category, []).append(question)
    for _ in range(DRAW_TRIES):
        chosen: list[Question] = []
        used: set[str] = set()
        for slot in SLOTS:
            usable = {
                category: [q for q in by_category.get(category, []) if not _chorale_keys(q) & used]
                for category in slot
            }
            categories = [c for c in slot if usable[c]]
            if not categories:
                break
            question = rng.choice(usable[rng.choice(categories)])
            chosen.append(question)
            used |= _chorale_keys(question)
        else:
            rng.shuffle(chosen)
            return chosen
    raise NotEnoughQuestions(
        "There are not enough live questions to build a quiz; please come back later."
    )


def balanced_sides(questions: Sequence[Question], rng: random.Random) -> list[str]:
    """For each question, the side Bach has held less often so far (a coin toss on a tie).

    Reads the questions' side counters as given: create_participant passes rows it has just
    locked, so that the counts it compares are the current ones.
    """
    sides = []
    for question in questions:
        a, b = question.bach_on_a, question.bach_on_b
        sides.append(Side.A if a < b else Side.B if b < a else rng.choice([Side.A, Side.B]))
    return sides


def _count_sides(pairs: Iterable[tuple[object, str]], step: int) -> None:
    """Add ``step`` to the side counter of each (question id, Bach's side), never below 0, in one
    statement. The caller holds the questions' row locks (taken in id order, so that no two
    transactions can wait on each other)."""
    pairs = list(pairs)
    if not pairs:
        return
    changes = {}
    for side, field in ((Side.A, "bach_on_a"), (Side.B, "bach_on_b")):
        ids = [question for question, bach in pairs if bach == side]
        add = Case(When(pk__in=ids, then=Value(step)), default=Value(0))
        changes[field] = Greatest(F(field) + add, Value(0))
    Question.objects.filter(pk__in=[question for question, _ in pairs]).update(**changes)


def _lock_questions(ids: Iterable[object]) -> dict[object, Question]:
    """The questions' rows with their side counters, locked until the transaction ends."""
    rows = Question.objects.select_for_update().filter(pk__in=list(ids)).order_by("pk")
    return {q.pk: q for q in rows.only("id", "bach_on_a", "bach_on_b")}


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
        # Quiz starts that share a question take turns from here to their commit (three short
        # statements), so that its two counters never differ by more than one.
        locked = _lock_questions(q.pk for q in questions)
        sides = balanced_sides([locked[q.pk] for q in questions], rng)
        Assignment.objects.bulk_create(
            Assignment(participant=participant, question=q, position=i, bach_side=side)
            for i, (q, side) in enumerate(zip(questions, sides, strict=True))
        )
        _count_sides(((q.pk, side) for q, side in zip(questions, sides, strict=True)), +1)
    return participant


def assignments_of(participant: Participant) -> list[Assignment]:
    """The participant's assignments in quiz order, with clips and answers loaded."""
    return list(
        participant.assignments.select_related(
            "question__clip_real", "question__clip_generated", "answer"
        ).order_by("position")
    )


def answer_of(assignment: Assignment) -> Answer | None:
    try:
        return assignment.answer
    except Answer.DoesNotExist:
        return None


@dataclass(frozen=True)
class Submitted:
    """A stored answer (its assignment, question and clips loaded) and the progress after it."""

    answer: Answer
    answered: int
    finished: bool


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
        try:
            participant = Participant.objects.select_for_update().get(pk=participant_id)
        except Participant.DoesNotExist:
            raise UnknownParticipant("No such participant.") from None
        if participant.withdrawn:
            raise ParticipantWithdrawn("You have withdrawn from the study; nothing was stored.")
        assignments = assignments_of(participant)
        assignment = next((a for a in assignments if str(a.question_id) == str(question_id)), None)
        if assignment is None:
            raise NotAssigned("This question is not part of your quiz.")
        if answer_of(assignment) is not None:
            raise AlreadyAnswered(
                "You have already answered this question; the first answer stands."
            )
        pending = next(a for a in assignments if answer_of(a) is None)
        if pending.position != assignment.position:
            raise OutOfOrder(f"Please answer question {pending.position + 1} first.")
        try:
            # No savepoint of its own (two round trips fewer): on a constraint error the whole
            # transaction is rolled back as the refusal leaves it, which is what a refusal wants.
            answer = Answer.objects.create(
                assignment=assignment,
                choice=choice,
                correct=choice == assignment.bach_side,
                response_ms=min(response_ms, MAX_RESPONSE_MS),
                elapsed_ms=None if elapsed_ms is None else min(elapsed_ms, MAX_RESPONSE_MS),
                plays={side: int(plays[side]) for side in Side.values},
                heard_fully={side: bool(heard_fully[side]) for side in Side.values},
            )
        except IntegrityError:  # the one-to-one constraint: a concurrent duplicate won the race
            raise AlreadyAnswered("You have already answered this question.") from None
        answered = sum(answer_of(a) is not None for a in assignments)  # this one included
        finished = answered == len(assignments)
        if finished:
            participant.finished_at = timezone.now()
            participant.save(update_fields=["finished_at"])
    return Submitted(answer=answer, answered=answered, finished=finished)


def withdraw(participant: Participant) -> int:
    """Delete the participant's answers, questions and background; keep a bare tombstone.

    The tombstone (id, dates) lets a returning browser be told its answers are gone. Returns
    how many answers were deleted; withdrawing twice deletes nothing more.
    """
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        deleted = Answer.objects.filter(assignment__participant=participant).count()
        sides = list(participant.assignments.values_list("question_id", "bach_side"))
        _lock_questions(question for question, _ in sides)
        _count_sides(sides, -1)  # the sides are balanced over the assignments that remain
        participant.assignments.all().delete()  # answers cascade
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
# default local-memory cache, once for all processes with Redis) and may lag others' latest
# answers by that much; a participant's own answers always count (see results()).
EVERYONE_CACHE_SECONDS = 10
_EVERYONE_KEY = "bachsurvey:results:everyone"


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
    """Everyone's figures, from the cache when a recent snapshot is there."""
    try:
        snapshot = cache.get(_EVERYONE_KEY)
    except Exception:  # a cache that is down (Redis) costs freshness, never the request
        snapshot = None
    if snapshot is None:
        snapshot = _everyone(until=timezone.now())
        try:
            cache.set(_EVERYONE_KEY, snapshot, EVERYONE_CACHE_SECONDS)
        except Exception:
            pass
    return snapshot


def results(participant: Participant) -> Results:
    """The participant's score and everyone's so far (withdrawn answers are already deleted).

    Everyone's figures come from a snapshot up to EVERYONE_CACHE_SECONDS old; the participant's
    own answers (and finish) that are newer than the snapshot are added to it, so "everyone"
    never shows less than "you".
    """
    mine = list(
        Answer.objects.filter(assignment__participant=participant).values_list(
            "assignment__question__category", "correct", "created_at"
        )
    )
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
    finished = participant.finished_at
    if finished is not None and finished > snapshot.until and not participant.withdrawn:
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


# --- content: chorales, clips, questions (used by seed_demo, later by generation batches) -------


def opaque_name(suffix: str) -> str:
    """A random file name, as composer.render.opaque_name (not imported: it loads music21)."""
    return secrets.token_hex(16) + suffix


def store_media(source: Path, folder: str, name: str | None = None) -> str:
    """Copy ``source`` to MEDIA_ROOT/folder/ under ``name`` (default: a fresh opaque name).

    Returns the storage name. An existing file of the same size is left alone (re-seeding).
    """
    name = f"{folder}/{name or opaque_name(source.suffix)}"
    target = Path(settings.MEDIA_ROOT) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return name


def add_clip(
    *, chorale: Chorale, frame_start: int, frame_end: int, audio: str, score: str, duration_s: float
) -> Clip:
    """A clip whose audio and score are already stored (names relative to MEDIA_ROOT)."""
    if not 0 <= frame_start < frame_end <= chorale.frames:
        raise InvalidContent(f"bad frame span {frame_start}..{frame_end}")
    return Clip.objects.create(
        chorale=chorale,
        frame_start=frame_start,
        frame_end=frame_end,
        audio=audio,
        score=score,
        duration_s=duration_s,
    )


def add_question(
    *, category: str, clip_real: Clip, clip_generated: Clip, live: bool = False
) -> Question:
    """A question, checked: one real and one generated clip of equal length, matching mask."""
    if not clip_real.is_real or clip_generated.is_real:
        raise InvalidContent("a question pairs one real clip with one generated clip")
    if clip_real.frames != clip_generated.frames:
        raise InvalidContent(
            f"clips differ in length ({clip_real.frames} and {clip_generated.frames} frames); "
            "a length difference would give the answer away"
        )
    if clip_generated.chorale.mask != category:
        raise InvalidContent(
            f"a {category} question needs a chorale generated with mask {category}, "
            f"not {clip_generated.chorale.mask}"
        )
    status = Question.Status.APPROVED if live else Question.Status.DRAFT
    return Question.objects.create(
        category=category,
        clip_real=clip_real,
        clip_generated=clip_generated,
        status=status,
        live=live,
    )


def retire_questions(questions: Iterable[Question]) -> int:
    """Take questions off the quiz; they stay for the answers already given to them."""
    return Question.objects.filter(pk__in=[q.pk for q in questions]).update(live=False)
