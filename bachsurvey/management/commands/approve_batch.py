"""Approve every draft question of a finished batch, as the admin's bulk approval does.

    python manage.py approve_batch 12            # by id
    python manage.py approve_batch "demo 3f2a…"  # or by name

Questions that would share an audio file or a Bach excerpt with a live question (or with one
approved before them here) are refused, each named with the question it clashes with; the rest
go live. The exit status is non-zero when anything was refused.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey.generation import review
from bachsurvey.models import Batch, Question


class Command(BaseCommand):
    help = "Approve (put live) every draft question of a finished batch, refusing rule breakers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("batch", help="the batch's id or name")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = find(options["batch"])
        if batch.status != Batch.Status.DONE:
            raise CommandError(f"batch {batch.pk} is {batch.status}: only a done batch is approved")
        drafts = Question.objects.filter(
            clip_generated__chorale__batch=batch, status=Question.Status.DRAFT
        )
        count = drafts.count()
        approval = review.approve(drafts)
        self.stdout.write(f"batch {batch.pk}: {approval.approved} of {count} drafts approved")
        for line in approval.messages():
            self.stdout.write(line)
        if approval.messages():
            raise CommandError(f"{count - approval.approved} refused (see above)")


def find(name: str) -> Batch:
    query = Batch.objects.filter(pk=int(name)) if name.isdigit() else Batch.objects.none()
    batch = query.first() or Batch.objects.filter(name=name).first()
    if batch is None:
        raise CommandError(f"no batch with id or name {name!r}")
    return batch
