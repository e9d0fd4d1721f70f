"""Where a generation batch stands, as the admin, its progress endpoint and generate_batch say it.

A batch is *stale* when it is pending or running and has shown no sign of life (queued, a task
started, a piece stored: ``Batch.progressed_at``) for GENERATION_STALE_SECONDS: its worker may
have died with no one to hand the message out again, or no worker consumes the gpu queue. A
stale batch may be queued again (bachsurvey.generation.jobs.retry_batch); being resumable, it
loses nothing, even if its old task wakes up after all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from bachsurvey.models import Batch

# The statuses a batch ends in: a page that follows a batch stops asking once it sees one.
ENDED = (Batch.Status.DONE, Batch.Status.FAILED, Batch.Status.CANCELLED)


def last_activity(batch: Batch) -> datetime:
    """The last sign of life: a stored piece, a start, the queueing; else its creation."""
    return batch.progressed_at or batch.created_at


def quiet_for(batch: Batch, now: datetime | None = None) -> timedelta:
    return (now or timezone.now()) - last_activity(batch)


def is_stale(batch: Batch, now: datetime | None = None) -> bool:
    if batch.status not in Batch.UNFINISHED or not batch.is_generated:
        return False
    return quiet_for(batch, now).total_seconds() > settings.GENERATION_STALE_SECONDS


def describe(batch: Batch, now: datetime | None = None) -> str:
    """The status as the admin shows it: ``running``, or ``running, stale (quiet for 2 h 5 min)``
    once it is stale."""
    if not is_stale(batch, now):
        return str(batch.status)
    return f"{batch.status}, stale (quiet for {duration(quiet_for(batch, now))})"


def duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def progress(batch: Batch) -> dict[str, Any]:
    """What a page following the batch needs: the staff-only progress endpoint's body."""
    return {
        "batch": batch.pk,
        "status": batch.status,
        "done": batch.done,
        "count": batch.count,
        "stage": batch.stage,
        "stale": is_stale(batch),
        "state": describe(batch),
        "ended": batch.status in ENDED,
        "error": batch.error or None,
    }
