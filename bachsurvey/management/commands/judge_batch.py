"""(Re)compute the machine judge of done batches and store it on each (Batch.judge).

    python manage.py judge_batch 12 14      # by id
    python manage.py judge_batch --all      # every done generation batch

A batch is judged when it is done; this is for batches made before the judge existed, or to
judge again. One JSON line per batch: {"batch", "judge"}. The exit status is non-zero when a
batch is missing or not done (the others are still judged).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey.generation import batch_judge
from bachsurvey.models import Batch


class Command(BaseCommand):
    help = "Judge done batches' pairs with the machine judge and store the verdict on each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="batch ids")
        parser.add_argument("--all", action="store_true", help="every done generation batch")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = options["ids"]
        if options["all"]:
            done = Batch.objects.filter(status=Batch.Status.DONE).exclude(mode="")
            ids = [*ids, *done.order_by("pk").values_list("pk", flat=True)]
        if not ids:
            raise CommandError("name batch ids, or --all")
        refused = []
        for batch_id in dict.fromkeys(ids):
            batch = Batch.objects.filter(pk=batch_id).first()
            if batch is None or batch.status != Batch.Status.DONE:
                refused.append(f"batch {batch_id} is {batch.status if batch else 'missing'}")
                continue
            verdict = batch_judge.store(batch)
            self.stdout.write(json.dumps({"batch": batch.pk, "judge": verdict}))
        if refused:
            raise CommandError("; ".join(refused) + ": only a done batch is judged")
