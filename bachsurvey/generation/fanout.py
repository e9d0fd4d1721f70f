"""A planned batch spread over workers: each piece rendered and stored by its own task, then the
batch finished (counted, its verdict kept, done) once every piece has reported.

The generate_batch task records a fan-out on the batch (``Batch.fanout``: a fresh id), samples
and pairs (bachsurvey.generation.batches), sending each piece, as JSON, to a render_piece task
on the `render` queue the moment it is paired; then it runs the machine judge on the planned
pairs (the judge needs the notes, not the files: render workers are busy with the pieces
meanwhile), records the plan and its verdict, and sends every piece again, grouped in a chord
whose callback, finish_batch, ends the batch; a piece's second task finds it stored
(bachsurvey.generation.tasks wires them; without a broker they all run in-process, in order).

The fan-out's id fences the tasks: a piece is stored, and the batch finished, only while the
batch runs under that id. A cancel stops them (the status), and so does a newer attempt (a retry,
or the generate_batch message handed out again before its pieces were sent): it records its own
id first, so pieces of an older plan can never be stored beside the newer plan's pairs.

Bounded as the batch task is: each piece's task counts its starts on the batch, and one started
GENERATION_MAX_ATTEMPTS times (its worker lost each time) gives up instead of running again. A
piece task never raises: it reports its error to the callback, which always runs, and fails the
batch naming the pieces that failed. The callback retries on errors of its own and fails the
batch when it runs out of retries; should it never run (its result backend lost), the batch goes
quiet and shows as stale (bachsurvey.generation.batch_state), to be retried.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bachsurvey.generation import batch_judge, pieces
from bachsurvey.models import Batch, Chorale

logger = logging.getLogger(__name__)
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class Plan:
    """A batch's pieces to render, under the fan-out that may store them."""

    batch_id: int
    id: str  # Batch.fanout["id"]
    label: str  # the checkpoint's label, each generated chorale's provenance
    pieces: list[dict[str, Any]]  # pieces.Piece.to_json() each


# A way to run a plan: the task module sends it to the workers; run_here runs it in order.
FanOut = Callable[[Plan], None]
# A way to send one piece ahead of its plan, while the batch still samples: (batch id, fan-out
# id, the piece as JSON, the checkpoint's label). The task module sends it to a worker.
SendEarly = Callable[[int, str, dict[str, Any], str], None]


def open_fanout(batch: Batch) -> str:
    """A fresh fan-out id recorded on the running batch before it samples, so that pieces sent
    ahead of the plan (SendEarly) are fenced as the plan's are; BatchStopped when the batch no
    longer runs."""
    fanout_id = uuid.uuid4().hex
    with transaction.atomic():
        locked = Batch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.status != Batch.Status.RUNNING:
            raise pieces.BatchStopped("stopped before it sampled")
        locked.fanout = {"id": fanout_id, "starts": {}}
        locked.save(update_fields=["fanout"])
    return fanout_id


def open_plan(
    batch: Batch,
    fanout_id: str,
    label: str,
    planned: list[pieces.Piece],
    verdict: dict[str, Any] | None = None,
) -> Plan:
    """Record the plan of fan-out ``fanout_id`` (open_fanout) and the judge's ``verdict`` on
    its pairs on the running batch before its tasks are sent: from here on a rerun of the
    batch's task leaves its pieces to finish it (``"sent"``). BatchStopped when the batch no
    longer runs, or runs another attempt now."""
    plan = Plan(batch.pk, fanout_id, label, [piece.to_json() for piece in planned])
    with transaction.atomic():
        locked = Batch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.status != Batch.Status.RUNNING:
            raise pieces.BatchStopped("stopped before its pieces were sent")
        if locked.fanout.get("id") != fanout_id:
            raise pieces.BatchStopped("another attempt runs the batch now")
        locked.fanout = {**locked.fanout, "pieces": len(planned), "sent": True}
        if verdict is not None:
            locked.fanout["verdict"] = verdict
        locked.stage = f"rendering: {len(stored(batch))} of {batch.count} stored"
        locked.progressed_at = timezone.now()
        locked.save(update_fields=["fanout", "stage", "progressed_at"])
    return plan


def run_here(plan: Plan) -> None:
    """The plan in this process, one piece after another (the callers that are no task)."""
    results = [
        {**render_one(plan.batch_id, plan.id, piece, plan.label), "worker": "in-process"}
        for piece in plan.pieces
    ]
    finish(plan.batch_id, plan.id, results)


# --- one piece (the render_piece task's body) ----------------------------------------------------


class PieceGaveUp(Exception):
    """A piece whose task started GENERATION_MAX_ATTEMPTS times without ending."""


def render_one(
    batch_id: int, fanout_id: str, data: dict[str, Any], label: str, worker: str = "in-process"
) -> dict[str, Any]:
    """Render and store one piece; never raises. Returns ``{"index", "stored"}``, with
    ``"skipped"`` (the batch stopped, or another attempt took it over) or ``"error"``. A piece
    may be sent twice (ahead of its plan, and in the plan's chord): whichever task comes second
    finds it stored. ``worker`` is credited with the piece it stores (``fanout["workers"]``)."""
    outcome: dict[str, Any] = {"index": data.get("index"), "stored": False}
    try:
        piece = pieces.Piece.from_json(data)
        batch = _begin(batch_id, fanout_id, piece.index)
        outcome["stored"] = pieces.store_piece(batch, piece, label, fanout_id)
        if outcome["stored"]:
            _credit(batch_id, fanout_id, worker)
    except pieces.BatchStopped as stopped:
        outcome["skipped"] = str(stopped)
    except Exception as error:  # reported to finish(), which names it in the batch's error
        logger.exception("batch %s: piece %s failed", batch_id, outcome["index"])
        outcome["error"] = f"{type(error).__name__}: {error}"
    return outcome


def _credit(batch_id: int, fanout_id: str, worker: str) -> None:
    """One more piece stored by ``worker`` (``fanout["workers"]``: name -> pieces, the admin's)."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch_id)
        if locked.fanout.get("id") == fanout_id:
            workers = locked.fanout.setdefault("workers", {})
            workers[worker] = workers.get(worker, 0) + 1
            locked.fanout["workers"] = dict(sorted(workers.items()))
            locked.save(update_fields=["fanout"])


def _begin(batch_id: int, fanout_id: str, index: int) -> Batch:
    """Count this start of the piece's task; refuse (BatchStopped) when the batch no longer runs
    under ``fanout_id``, and give up (PieceGaveUp) on a piece whose task keeps dying."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.status != Batch.Status.RUNNING:
            raise pieces.BatchStopped(f"batch {batch_id} is no longer running")
        if batch.fanout.get("id") != fanout_id:
            raise pieces.BatchStopped(f"batch {batch_id} is run by another attempt now")
        if pieces.is_stored(batch, index):  # a redelivered message: nothing to count
            return batch
        starts = batch.fanout.setdefault("starts", {})
        if starts.get(str(index), 0) >= settings.GENERATION_MAX_ATTEMPTS:
            raise PieceGaveUp(
                f"gave up after {starts[str(index)]} starts: its worker was lost each time"
            )
        starts[str(index)] = starts.get(str(index), 0) + 1
        batch.progressed_at = timezone.now()
        batch.save(update_fields=["fanout", "progressed_at"])
    return batch


# --- the batch's end (the finish_batch task's body, the chord's callback) ------------------------


def finish(batch_id: int, fanout_id: str, results: list[dict[str, Any]]) -> str:
    """End the batch once its pieces have reported: done (and judged) with all ``count``
    pieces stored, else failed, naming the pieces' errors. The verdict is the plan's (open_plan)
    when it has one, else the judge runs here on the stored pairs. A batch cancelled meanwhile,
    or run by another attempt now, is left as it is. Returns the batch's status."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None:
        return "skipped"
    if batch.status != Batch.Status.RUNNING or batch.fanout.get("id") != fanout_id:
        Batch.objects.filter(pk=batch_id).update(done=len(stored(batch)))
        return Batch.objects.get(pk=batch_id).status
    found = len(stored(batch))
    if found != batch.count:
        failures = [f"piece {r['index']}: {r['error']}" for r in results if r.get("error")]
        error = "; ".join([f"{found} of {batch.count} pieces stored", *failures])
        return end(batch, Batch.Status.FAILED, error, fanout_id).status
    running = Batch.objects.filter(pk=batch_id, status=Batch.Status.RUNNING, fanout__id=fanout_id)
    if not running.update(stage="judging its pairs", done=found, progressed_at=timezone.now()):
        return Batch.objects.get(pk=batch_id).status  # cancelled a moment ago
    batch_judge.store(batch, batch.fanout.get("verdict"))  # a done batch has its verdict
    return end(batch, Batch.Status.DONE, "", fanout_id).status


def give_up(batch_id: int, fanout_id: str | None, error: str) -> None:
    """Fail the batch whose end could not be made (the callback ran out of retries, or the
    chord failed), unless it has ended or another attempt runs it."""
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is not None:
        end(batch, Batch.Status.FAILED, f"its pieces could not be finished: {error}", fanout_id)


# --- ending a batch ------------------------------------------------------------------------------


def stored(batch: Batch) -> set[int]:
    return set(Chorale.objects.filter(batch=batch).values_list("index", flat=True))


def end(batch: Batch, status: str, error: str = "", fanout_id: str | None = None) -> Batch:
    """End a running batch (only while fan-out ``fanout_id`` runs it, when given); one
    cancelled meanwhile stays cancelled."""
    running = Batch.objects.filter(pk=batch.pk, status=Batch.Status.RUNNING)
    if fanout_id is not None:
        running = running.filter(fanout__id=fanout_id)
    running.update(
        status=status,
        error=error[:MAX_ERROR_CHARS],
        done=len(stored(batch)),
        stage="" if status == Batch.Status.DONE else "stopped",
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    return batch


def stopped(batch: Batch) -> Batch:
    """The batch was cancelled (or ended by another run) while this one worked: count what is
    stored, change nothing else."""
    Batch.objects.filter(pk=batch.pk).update(done=len(stored(batch)))
    batch.refresh_from_db()
    return batch
