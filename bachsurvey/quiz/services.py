"""Everything a participant writes, each in one transaction (HackSoft-style services): starting a
quiz (consent to the current study version, the minimum age, background, a withdrawal code and
the draw of its questions), answering, withdrawing.

The API calls these; it never touches models directly for writes. The busy writes' SQL is
written out in bachsurvey.quiz.sql. Refusals are typed errors (SurveyError subclasses) that the
API maps to HTTP statuses.

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
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction
from django.utils import timezone

# Participants read these refusals (the API's "detail"): gettext, in the request's language.
from django.utils.translation import gettext

from bachsurvey.consent import codes
from bachsurvey.consent.admission import check_consent
from bachsurvey.consent.study import current_study
from bachsurvey.models import (
    SINGLE_VOICE,
    Answer,
    Assignment,
    Category,
    Participant,
    Side,
    new_media_key,
)
from bachsurvey.quiz import clip_urls, sql
from bachsurvey.quiz.errors import (  # the refusals (bachsurvey.quiz.errors)
    AlreadyAnswered,
    NotAssigned,
    NotEnoughQuestions,
    NotFinished,
    OutOfOrder,
    ParticipantWithdrawn,
    UnknownParticipant,
)
from bachsurvey.quiz.practice import PRACTICE_CHORALE
from bachsurvey.quiz.sql import Drawable, QuizItem

QUESTIONS_PER_PARTICIPANT = 5
SLOTS: tuple[tuple[str, ...], ...] = (
    tuple(SINGLE_VOICE),
    (Category.AT,),
    (Category.ATB,),
    (Category.SATB,),
    (Category.SATB,),
)
DRAW_TRIES = 200  # random restarts before concluding the live pool cannot fill a quiz
HEARD_DRAWS = 8  # draws compared for a new attempt, to repeat as little as the pool allows
MAX_RESPONSE_MS = 60 * 60 * 1000


# --- drawing a quiz ------------------------------------------------------------------------------


def draw_questions(rng: random.Random, heard: frozenset[uuid.UUID] = frozenset()) -> list[Drawable]:
    """Five live questions per SLOTS, no repeats, no shared chorale, in random order; questions
    in ``heard`` (an earlier attempt's) only where nothing else fills a slot."""
    return draw_from(sql.live_questions(), rng, heard)


def draw_from(
    pool: list[Drawable], rng: random.Random, heard: frozenset[uuid.UUID] = frozenset()
) -> list[Drawable]:
    """Five questions of ``pool`` per SLOTS (see draw_questions); NotEnoughQuestions if it
    cannot fill a quiz. The practice pair's chorale is never drawn: its answer is public.

    Given ``heard`` (the questions of this browser's earlier attempts), of several draws the
    one that repeats least: fresh questions first, then unheard questions of a chorale heard
    before, heard questions last. With nothing heard, the draw is exactly the plain one (the
    same rng calls)."""
    heard_chorales = frozenset().union(*(q.chorales for q in pool if q.pk in heard))

    def rank(question: Drawable) -> int:  # 0: fresh; 1: a heard chorale; 2: a heard question
        if question.pk in heard:
            return 2
        return 1 if question.chorales & heard_chorales else 0

    chosen = _draw(pool, rng, lambda question: 0) if not heard else _least_heard(pool, rng, rank)
    if chosen is None:
        raise NotEnoughQuestions(
            gettext("There are not enough live questions to build a quiz; please come back later.")
        )
    return chosen


def _least_heard(
    pool: list[Drawable], rng: random.Random, rank: Callable[[Drawable], int]
) -> list[Drawable] | None:
    """Of a few draws, the one that repeats least (by ``rank``): each slot taking its freshest
    questions can corner a later slot (a chorale it needed is used), so plain draws compete too."""
    best: list[Drawable] | None = None
    for _ in range(HEARD_DRAWS):
        for slot_rank in (rank, lambda question: 0):
            chosen = _draw(pool, rng, slot_rank)
            if chosen is None:
                continue
            if best is None or sum(map(rank, chosen)) < sum(map(rank, best)):
                best = chosen
            if sum(map(rank, best)) == 0:
                return best
    return best


def _draw(
    pool: list[Drawable], rng: random.Random, rank: Callable[[Drawable], int]
) -> list[Drawable] | None:
    by_category: dict[str, list[Drawable]] = {}
    for question in pool:  # a fixed order, so a seeded rng draws reproducibly
        by_category.setdefault(question.category, []).append(question)
    for _ in range(DRAW_TRIES):
        chosen: list[Drawable] = []
        used: set[str] = {PRACTICE_CHORALE}
        for slot in SLOTS:
            usable = {
                category: [q for q in by_category.get(category, []) if not q.chorales & used]
                for category in slot
            }
            best = min((rank(q) for c in slot for q in usable[c]), default=None)
            if best is None:
                break
            usable = {c: [q for q in usable[c] if rank(q) == best] for c in slot}
            categories = [c for c in slot if usable[c]]
            question = rng.choice(usable[rng.choice(categories)])
            chosen.append(question)
            used |= question.chorales
        else:
            rng.shuffle(chosen)
            return chosen
    return None


def draw_sides(count: int) -> list[str]:
    """Bach's side for each of ``count`` assignments, each drawn on its own from the operating
    system's cryptographic source: nobody can predict it from other participants' sides (the
    earlier rule, the side held less often, let consecutive participants alternate 3 times in
    4), and no seed set in a test or a worker can make it repeat."""
    return [secrets.choice(Side.values) for _ in range(count)]


# --- participants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """A new participant, and its withdrawal code in plain text (stored only as a hash)."""

    participant: Participant
    withdrawal_code: str


def create_participant(
    *,
    age_group: str,
    experience: str,
    attempt: int = 1,
    heard: frozenset[uuid.UUID] = frozenset(),
    rng: random.Random | None = None,
    consent_version: int | None = None,
    guardian_confirmed: bool = False,
    previous: Participant | None = None,
) -> Started:
    """A consenting participant with five assigned questions (consent is checked by the API),
    bound to the current study version and drawn away from the ``heard`` questions of this
    browser's earlier attempts; nothing is stored when the study refuses the start.

    ``previous``: the finished attempt this one plays again after. The new one keeps its
    consent (the same study version, asked again if the study has changed since), its guardian
    confirmation and its withdrawal code, so that one code withdraws every attempt."""
    rng = rng or random.SystemRandom()
    with transaction.atomic():
        study = current_study()
        minor_with_guardian = check_consent(
            study,
            consent_version=consent_version,
            age_group=age_group,
            guardian_confirmed=guardian_confirmed,
        )
        questions = draw_questions(rng, heard)
        participant, code = _new_participant(
            previous,
            study=study,
            consented_at=previous.consented_at if previous else timezone.now(),
            age_group=age_group,
            experience=experience,
            attempt=attempt,
            guardian_confirmed=minor_with_guardian,
        )
        ids = [q.pk for q in questions]
        rows = [
            (question, position, side, new_media_key())
            for position, (question, side) in enumerate(zip(ids, draw_sides(len(ids)), strict=True))
        ]
        sql.insert_assignments(participant.pk, rows)
    return Started(participant=participant, withdrawal_code=code)


def _new_participant(previous: Participant | None, **fields: object) -> tuple[Participant, str]:
    """The participant row with ``previous``'s withdrawal code (its hash; the plain code stays
    in the browser's session: returned as ""), or a fresh one. A fresh code already taken (odds
    about one in 10^6 with a million participants) is drawn again: attempts share a code, so the
    hash is not unique in the table and cannot refuse a duplicate itself."""
    if previous is not None and previous.withdrawal_code_hash:
        fields["withdrawal_code_hash"] = previous.withdrawal_code_hash
        return Participant.objects.create(**fields), ""
    for _ in range(5):
        code = codes.new_code()
        digest = codes.digest(code)
        if not Participant.objects.filter(withdrawal_code_hash=digest).exists():
            return Participant.objects.create(withdrawal_code_hash=digest, **fields), code
    raise IntegrityError("no free withdrawal code after 5 draws")


def heard_questions(participant_ids: Iterable[object]) -> frozenset[uuid.UUID]:
    """The questions assigned to these participants (a browser's attempts; a withdrawn one has
    none left)."""
    ids = [str(pk) for pk in participant_ids]
    rows = Assignment.objects.filter(participant_id__in=ids).values_list("question_id", flat=True)
    return frozenset(rows)


def play_again(
    *,
    previous_id: object,
    attempt: int,
    earlier: Iterable[object] = (),
    rng: random.Random | None = None,
) -> Started:
    """A new attempt from the same browser after a finished quiz: a new participant with the
    same background and consent, numbered ``attempt`` (the statistics' repeat-attempts rule
    reads it), its questions drawn away from those this browser has heard (``previous_id`` and
    the ``earlier`` attempts). The earlier answers stay as they were."""
    with transaction.atomic():
        previous = Participant.objects.select_for_update().filter(pk=previous_id).first()
        if previous is None:
            raise UnknownParticipant(gettext("No such participant."))
        if previous.withdrawn:
            raise ParticipantWithdrawn(gettext("You have withdrawn from the study."))
        if previous.finished_at is None:
            raise NotFinished(gettext("Please finish this quiz before playing again."))
        return create_participant(
            age_group=previous.age_group,
            experience=previous.experience,
            attempt=attempt,
            heard=heard_questions([previous_id, *earlier]),
            rng=rng,
            consent_version=previous.study.version if previous.study else None,
            guardian_confirmed=previous.guardian_confirmed,
            previous=previous,
        )


@dataclass(frozen=True)
class Submitted:
    """A stored answer (as its question's item of the quiz) and the progress after it."""

    item: QuizItem
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
        quiz = sql.quiz_of(participant_id, lock=True)
        if quiz is None:
            raise UnknownParticipant(gettext("No such participant."))
        if quiz.withdrawn:
            raise ParticipantWithdrawn(
                gettext("You have withdrawn from the study; nothing was stored.")
            )
        item = next((i for i in quiz.items if str(i.question_id) == str(question_id)), None)
        if item is None:
            raise NotAssigned(gettext("This question is not part of your quiz."))
        if item.answered:
            raise AlreadyAnswered(
                gettext("You have already answered this question; the first answer stands.")
            )
        pending = next(i for i in quiz.items if not i.answered)
        if pending.position != item.position:
            wanted = {"number": pending.position + 1}
            raise OutOfOrder(gettext("Please answer question %(number)s first.") % wanted)
        now = timezone.now()
        stored = replace(item, choice=choice, correct=choice == item.bach_side, answered_at=now)
        # The server's own account, which a script cannot fake: how much of each clip it sent,
        # and how long since the previous answer (or the start) this answer came.
        served = clip_urls.served_fractions(item.assignment_id, item.audio_bytes)
        previous = quiz.items[item.position - 1].answered_at if item.position else quiz.started_at
        server_elapsed = round((now - (previous or quiz.started_at)).total_seconds() * 1000)
        try:
            # No savepoint of its own (two round trips fewer): on a constraint error the whole
            # transaction is rolled back as the refusal leaves it, which is what a refusal wants.
            sql.insert_answer(
                assignment_id=item.assignment_id,
                choice=choice,
                correct=choice == item.bach_side,
                response_ms=min(response_ms, MAX_RESPONSE_MS),
                elapsed_ms=None if elapsed_ms is None else min(elapsed_ms, MAX_RESPONSE_MS),
                plays={side: int(plays[side]) for side in Side.values},
                heard_fully={side: bool(heard_fully[side]) for side in Side.values},
                served=served,
                server_elapsed_ms=min(max(server_elapsed, 0), MAX_RESPONSE_MS),
                created_at=now,
            )
        except IntegrityError:  # the one-to-one constraint: a concurrent duplicate won the race
            raise AlreadyAnswered(gettext("You have already answered this question.")) from None
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


def withdraw_attempts(participant: Participant, earlier: Iterable[object]) -> tuple[int, list]:
    """Withdraw ``participant`` and this browser's ``earlier`` attempts (played again): their
    answers are as much this person's as the last quiz's. Returns the answers deleted and the
    ids withdrawn."""
    with transaction.atomic():
        ids = [str(pk) for pk in earlier]
        others = list(Participant.objects.filter(pk__in=ids, withdrawn_at__isnull=True))
        everyone = [participant, *(p for p in others if p.pk != participant.pk)]
        deleted = sum(withdraw(p) for p in everyone)
    return deleted, [p.pk for p in everyone]
