"""One question per audio and per Bach excerpt (issue 16, rule 2).

A clip met in two questions is Bach (the network writes a new piece for every question, Bach's
chorales are few), so no audio file and no Bach excerpt may back more than one live question:

* an **audio file** is the same when its name or its content (SHA-256) is;
* a **Bach excerpt** is a real chorale's frames ``frame_start .. frame_end-1``; two excerpts of
  one chorale that share a frame count as the same Bach, since a listener hears the shared part.

Batches draw their sources among the excerpts no question holds (``held_excerpts``): a question
holds its excerpt while it is a draft, approved, or has ever been served. Approval refuses what
would put a second question on a live one's audio or excerpt, naming the other question
(``approval_conflicts``), and the seeded demo obeys the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from bachsurvey.models import Assignment, Question


@dataclass(frozen=True, order=True)
class Excerpt:
    """Frames ``start .. end-1`` of corpus chorale ``source``: the Bach side of a question."""

    source: str
    start: int
    end: int

    def overlaps(self, other: Excerpt) -> bool:
        return self.source == other.source and self.start < other.end and other.start < self.end

    def __str__(self) -> str:
        return f"{self.source} frames {self.start}-{self.end}"


def excerpt_of(question: Question) -> Excerpt:
    clip = question.clip_real
    return Excerpt(clip.chorale.source, clip.frame_start, clip.frame_end)


def _with_clips(questions: QuerySet[Question]) -> QuerySet[Question]:
    return questions.select_related("clip_real__chorale", "clip_generated")


def holding() -> QuerySet[Question]:
    """Questions that hold their Bach excerpt: drafts, approved ones (live or not), and any that
    was ever served. Only a rejected question that nobody heard lets its excerpt go."""
    served = Exists(Assignment.objects.filter(question=OuterRef("pk")))
    return _with_clips(
        Question.objects.filter(
            Q(status__in=[Question.Status.DRAFT, Question.Status.APPROVED]) | Q(served)
        )
    )


def held_excerpts() -> list[Excerpt]:
    """The excerpts a new batch must not use again."""
    return sorted({excerpt_of(q) for q in holding()})


def is_unused(excerpt: Excerpt, held: Sequence[Excerpt]) -> bool:
    return not any(excerpt.overlaps(other) for other in held)


@dataclass(frozen=True)
class Conflict:
    """``question`` would share ``what`` with ``other``."""

    question: Question
    other: Question
    what: str

    def __str__(self) -> str:
        return (
            f"question {self.question.pk} would share {self.what} with live question "
            f"{self.other.pk}"
        )


def conflicts_between(question: Question, other: Question) -> list[str]:
    """What ``question`` and ``other`` share: audio (a file name or content) or Bach."""
    shared = []
    mine = [question.clip_real, question.clip_generated]
    theirs = [other.clip_real, other.clip_generated]
    for clip in mine:
        for their in theirs:
            same_name = clip.audio.name == their.audio.name
            same_bytes = bool(clip.audio_sha256) and clip.audio_sha256 == their.audio_sha256
            if same_name or same_bytes:
                shared.append(f"an audio file ({clip.audio.name})")
    if excerpt_of(question).overlaps(excerpt_of(other)):
        shared.append(f"its Bach excerpt ({excerpt_of(question)} and {excerpt_of(other)})")
    return shared


def approval_conflicts(questions: Iterable[Question]) -> list[Conflict]:
    """What approving ``questions`` (all at once) would break: each against the live questions
    outside the set and against the ones before it in the set."""
    questions = list(_with_clips(Question.objects.filter(pk__in=[q.pk for q in questions])))
    live = list(
        _with_clips(Question.objects.filter(live=True).exclude(pk__in=[q.pk for q in questions]))
    )
    found: list[Conflict] = []
    accepted: list[Question] = []
    for question in sorted(questions, key=lambda q: (q.created_at, str(q.pk))):
        clashes = [
            Conflict(question, other, what)
            for other in live + accepted
            for what in conflicts_between(question, other)
        ]
        found += clashes
        if not clashes:
            accepted.append(question)
    return found
