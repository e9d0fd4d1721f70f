"""The gpu queue's work created and queued: generation batches and grid-search runs.

The only module that queues tasks. Each task is queued once the transaction that made its row
commits (``delay_on_commit``; at once in autocommit), so a worker never looks for a row that is
not there yet. Rows are made here, the tasks (bachsurvey.generation.tasks) run them: this module
imports the tasks, and nothing the tasks import comes back here.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bachsurvey.generation import batch_state, tasks
from bachsurvey.models import MAX_BATCH_COUNT, Batch, GridRun


class BatchError(Exception):
    """A refused batch operation; the message is for the admin and the command line."""


RETRYABLE = (Batch.Status.FAILED, Batch.Status.CANCELLED)


# --- generation batches --------------------------------------------------------------------------


def batch_name(batch: Batch) -> str:
    what = "free" if batch.mode == Batch.Mode.FREE else f"harmonize {batch.voices}"
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M")
    tag = secrets.token_hex(2)  # names are unique; two identical requests in a minute are not
    return f"{what} ×{batch.count} T={batch.temperature:g} seed={batch.seed} {stamp} {tag}"


def prepare(batch: Batch) -> Batch:
    """Fill in what follows from the parameters: voices for free pieces, checkpoint, name."""
    if batch.mode == Batch.Mode.FREE:
        batch.voices = "SATB"
    batch.voices = batch.voices.upper()
    free = batch.mode == Batch.Mode.FREE
    default = settings.GENERATION_CHECKPOINT if free else settings.HARMONIZATION_CHECKPOINT
    batch.checkpoint = batch.checkpoint or default
    batch.name = batch.name or batch_name(batch)
    return batch


def create_batch(**parameters: Any) -> Batch:
    """A pending batch (mode, voices, count, temperature, seed, …), queued once committed."""
    batch = prepare(Batch(**parameters))
    if not 1 <= batch.count <= MAX_BATCH_COUNT:
        raise BatchError(f"count must be between 1 and {MAX_BATCH_COUNT}, got {batch.count}")
    try:
        batch.full_clean()
    except ValidationError as error:
        raise BatchError("; ".join(error.messages)) from error
    with transaction.atomic():
        batch.save()
        queue(batch)
    return batch


def queue(batch: Batch) -> None:
    """Send the batch to the gpu queue once the transaction commits (at once in autocommit)."""
    tasks.generate_batch.delay_on_commit(batch.pk)


def retry_batch(batch_id: int) -> Batch:
    """Queue a failed, cancelled or stale batch again: it keeps what it stored and makes the
    rest, with a fresh count of attempts (GENERATION_MAX_ATTEMPTS)."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status not in RETRYABLE and not batch_state.is_stale(batch):
            raise BatchError(
                f"{batch} is {batch.status}: only a failed, cancelled or stale batch can be retried"
            )
        batch.status, batch.error, batch.stage = Batch.Status.PENDING, "", "queued again"
        batch.attempts, batch.finished_at = 0, None
        batch.progressed_at = timezone.now()  # the staleness clock starts again
        batch.save(
            update_fields=["status", "error", "stage", "attempts", "finished_at", "progressed_at"]
        )
        queue(batch)
    return batch


def cancel_batch(batch_id: int) -> Batch:
    """Stop a pending or running batch. Its task stops before storing another piece (the row
    is locked while a piece is stored, and checked under that lock: bachsurvey.generation.pieces)
    and a message still queued finds nothing to do; what it stored is never served."""
    with transaction.atomic():
        batch = _locked(batch_id)
        if batch.status not in Batch.UNFINISHED:
            raise BatchError(
                f"{batch} is {batch.status} already: only a pending or running batch can be "
                "cancelled"
            )
        batch.status, batch.stage = Batch.Status.CANCELLED, "cancelled"
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "stage", "finished_at"])
    return batch


def _locked(batch_id: int) -> Batch:
    batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None or not batch.is_generated:
        raise BatchError(f"there is no generation batch {batch_id}")
    return batch


# --- the grid search -----------------------------------------------------------------------------


def start_grid(grid_file: dict[str, Any], name: str) -> list[GridRun]:
    """One pending row per configuration of ``grid_file``, each queued once committed."""
    from composer.training.grid import configurations

    runs = configurations(grid_file)  # ValueError on an unknown setting, before anything runs
    with transaction.atomic():
        rows = [
            GridRun.objects.create(grid=name, index=i, settings=config)
            for i, config in enumerate(runs)
        ]
        for row in rows:
            tasks.run_grid_configuration.delay_on_commit(row.pk)
    return rows
