"""Review of generated questions: what may be approved, approval against the validity rules,
rejection, and the next draft to review (the admin and ``approve_batch``).

Nothing of a batch that is not done can be approved.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from bachsurvey.generation import validity
from bachsurvey.models import Batch, Question


def reviewable() -> Q:
    """Questions an admin may approve: from a finished batch, or from no batch at all."""
    return Q(clip_generated__chorale__batch__isnull=True) | Q(
        clip_generated__chorale__batch__status=Batch.Status.DONE
    )


@dataclass(frozen=True)
class Approval:
    """What an approval did: questions put live, and those refused, with the reason."""

    approved: int
    unfinished: int  # of a batch that is not done
    conflicts: list[validity.Conflict]

    def messages(self) -> list[str]:
        """One line per refusal, for the admin and the command line."""
        lines = [f"refused: {c}" for c in self.conflicts]
        if self.unfinished:
            lines.append(f"refused: {self.unfinished} of a batch that is not done")
        return lines


def approve(questions: QuerySet[Question]) -> Approval:
    """Approve and put live. Refused: questions of an unfinished batch, and any that would share
    an audio file or a Bach excerpt with a live question or with one approved before it here
    (validity). The others go live; nothing is half done."""
    with transaction.atomic():
        wanted = list(questions.values_list("pk", flat=True))
        # One approval at a time: two admins approving two clashing drafts at once would each
        # see the other's still off the quiz.
        list(Batch.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        finished = list(Question.objects.filter(reviewable(), pk__in=wanted))
        conflicts = validity.approval_conflicts(finished)
        refused = {conflict.question.pk for conflict in conflicts}
        approved = Question.objects.filter(
            pk__in=[q.pk for q in finished if q.pk not in refused]
        ).update(status=Question.Status.APPROVED, live=True)
    return Approval(approved, len(wanted) - len(finished), conflicts)


def reject(questions: QuerySet[Question]) -> int:
    """Reject: off the quiz for good (kept, as answers may refer to it)."""
    return Question.objects.filter(pk__in=questions.values("pk")).update(
        status=Question.Status.REJECTED, live=False
    )


def next_draft(question: Question) -> Question | None:
    """The next question of the same batch still waiting for review, in piece order."""
    batch_id = question.clip_generated.chorale.batch_id
    if batch_id is None:
        return None
    return (
        Question.objects.filter(
            clip_generated__chorale__batch_id=batch_id, status=Question.Status.DRAFT
        )
        .exclude(pk=question.pk)
        .order_by("clip_generated__chorale__index")
        .first()
    )
