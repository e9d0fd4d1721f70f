"""Queue a generation batch on the `gpu` queue, retry or cancel one; optionally wait for it.

    python manage.py generate_batch --mode free --count 64 --temperature 0.8 --seed 1 --wait
    python manage.py generate_batch --mode harmonize --voices ATB --count 8 --wait
    python manage.py generate_batch --retry 12 --wait     # a failed, cancelled or stale batch
    python manage.py generate_batch --cancel 12           # a pending or running batch

With --wait it draws a progress bar (on stderr, from the batch's status row) and prints exactly
one JSON line on stdout: {"batch", "status", "chorales", "rejected", "questions", "error",
"judge"} (judge: the machine judge's verdict on the batch's pairs, see
bachsurvey.generation.batch_judge); the exit status is non-zero unless the batch is done.
Without a broker (CELERY_BROKER_URL unset) the task runs in this process before the command
returns. A pending or running batch with no progress for GENERATION_STALE_SECONDS is stale (its
worker died, or none consumes the gpu queue): the bar says so, and --retry queues it again.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from bachsurvey.generation import batch_state, batches, jobs
from bachsurvey.models import Batch

NO_WORKER_HINT_S = 30.0


class Command(BaseCommand):
    help = (
        "Queue a generation batch (free or harmonize) on the gpu queue; retry a failed, cancelled "
        "or stale one (pending or running with no progress for GENERATION_STALE_SECONDS); or "
        "cancel a pending or running one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mode", choices=Batch.Mode.values)
        parser.add_argument("--voices", default="", help="harmonize: S, A, T, B, AT or ATB")
        parser.add_argument("--count", type=int, help="pieces (and questions) to make")
        parser.add_argument("--temperature", type=float, default=0.8, help="free composition")
        parser.add_argument("--seed", type=int, help="default: drawn at random for the batch")
        parser.add_argument(
            "--random-key",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="move both clips of each pair to one key drawn at random (default: on)",
        )
        parser.add_argument(
            "--checkpoint",
            default="",
            help="default: GENERATION_CHECKPOINT (free), HARMONIZATION_CHECKPOINT",
        )
        parser.add_argument("--method", choices=Batch.Method.values, default="beam")
        parser.add_argument("--beam-width", type=int, default=5)
        parser.add_argument("--frames", type=int, default=64, help="longest clip, in sixteenths")
        parser.add_argument(
            "--retry", type=int, metavar="ID", help="queue a failed, cancelled or stale batch again"
        )
        parser.add_argument(
            "--cancel",
            type=int,
            metavar="ID",
            help="stop a pending or running batch: its task stores no more pieces",
        )
        parser.add_argument("--wait", action="store_true", help="show progress until it ends")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks")
        parser.add_argument("--timeout", type=float, help="give up waiting after this long")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["cancel"] is not None:
                batch = jobs.cancel_batch(options["cancel"])
                self.stdout.write(f"cancelled batch {batch.pk}: {batch.name}, {batch.done} stored")
                return
            batch = self.start(options)
        except jobs.BatchError as error:
            raise CommandError(str(error)) from error
        if not options["wait"]:
            self.stdout.write(f"queued batch {batch.pk}: {batch.name}")
            return
        batch = wait(batch, options["poll"], options["timeout"])
        summary = batches.summary(batch)
        self.stdout.write(json.dumps(summary))
        if batch.status != Batch.Status.DONE:
            raise CommandError(not_done(batch))

    def start(self, options: dict[str, Any]) -> Batch:
        if options["retry"] is not None:
            return jobs.retry_batch(options["retry"])
        if options["mode"] is None or options["count"] is None:
            raise CommandError("--mode and --count are required (or --retry ID, --cancel ID)")
        seed = {} if options["seed"] is None else {"seed": options["seed"]}
        return jobs.create_batch(
            mode=options["mode"],
            voices=options["voices"],
            count=options["count"],
            temperature=options["temperature"],
            checkpoint=options["checkpoint"],
            method=options["method"],
            beam_width=options["beam_width"],
            frames=options["frames"],
            random_key=options["random_key"],
            **seed,
        )


def not_done(batch: Batch) -> str:
    """Why --wait ends without a done batch: its error, the timeout, and how to go on."""
    reasons = [batch.error] if batch.error else []
    if batch.status in Batch.UNFINISHED:
        reasons.append("timed out")
    if batch.status == Batch.Status.CANCELLED or batch_state.is_stale(batch):
        reasons.append(f"queue it again with --retry {batch.pk}")
    said = f"batch {batch.pk} is {batch_state.describe(batch)}"
    return f"{said}: {'; '.join(reasons)}" if reasons else said


def wait(batch: Batch, poll: float, timeout: float | None) -> Batch:
    """Follow the status row with a progress bar until the batch ends (or the timeout passes)."""
    started = time.monotonic()
    said: set[str] = set()
    bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
    with tqdm(
        total=batch.count, desc=f"batch {batch.pk}", bar_format=bar_format, file=sys.stderr
    ) as bar:
        while True:
            batch.refresh_from_db()
            bar.n = batch.done
            state = batch_state.describe(batch)
            bar.set_postfix_str(f"{state}, {batch.rejected} rejected; {batch.stage}")
            if batch.status in batch_state.ENDED:
                return batch
            waited = time.monotonic() - started
            for kind, text in hints(batch, waited):
                if kind not in said:  # each once; stdout holds the one JSON line
                    bar.write(text, file=sys.stderr)
                    said.add(kind)
            if timeout is not None and waited > timeout:
                return batch
            time.sleep(poll)


def hints(batch: Batch, waited: float) -> list[tuple[str, str]]:
    """Why an unfinished batch may not be moving, and what to do: (kind, text) each."""
    found = []
    if batch_state.is_stale(batch):
        quiet = batch_state.duration(batch_state.quiet_for(batch))
        found.append(("stale", f"batch {batch.pk} is stale: no progress for {quiet}; "
                               f"generate_batch --retry {batch.pk} queues it again"))  # fmt: skip
    if batch.status == Batch.Status.PENDING and waited > NO_WORKER_HINT_S:
        found.append(("gpu", "no worker has taken it yet: is one consuming the gpu queue? "
                             "(celery -A bachsurvey worker -Q gpu --concurrency 1)"))  # fmt: skip
    pieces_out = batch.status == Batch.Status.RUNNING and batch.fanout.get("sent")
    if pieces_out and batch_state.quiet_for(batch).total_seconds() > NO_WORKER_HINT_S:
        found.append(("render", "its pieces are queued but none was stored for a while: is a "
                                "worker consuming the render queue? (celery -A bachsurvey "
                                "worker -Q render)"))  # fmt: skip
    return found
