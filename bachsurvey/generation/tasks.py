"""Celery tasks. Sampling and training go to the `gpu` queue, rendering a batch's pieces and
finishing the batch to the `render` queue (CELERY_TASK_ROUTES in settings).

Each task takes ids (a piece to render: its tokens as JSON, no pickles), is queued by
bachsurvey.generation.jobs once the transaction that made its row commits (`delay_on_commit`),
or by a batch's task once it has sampled (its pieces), is acknowledged only when it ends (a
worker killed mid-task leaves its message to be handed out again) and is safe to run twice: the
services it calls skip what is stored. torch is imported inside the services they call, never
when the worker starts.

Each task's name is given, not derived from this module's path: queued messages, the routes in
settings (CELERY_TASK_ROUTES) and any beat schedule name the tasks by it, wherever the code lives.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, chord, group, shared_task

from bachsurvey.generation import batches, fanout, grid_runs

logger = logging.getLogger(__name__)
FINISH_RETRIES = 5  # the chord's callback, on errors of its own (a database away for a while)


@shared_task(name="bachsurvey.tasks.generate_batch", acks_late=True, reject_on_worker_lost=True)
def generate_batch(batch_id: int) -> str:
    """Sample what is missing of a generation batch and send its pieces to the render queue;
    its status row tells how it went ("running" here: the render tasks end it)."""
    batch = batches.run_batch(batch_id, send_pieces, send_piece_now)
    return batch.status if batch is not None else "skipped"


def send_piece_now(batch_id: int, fanout_id: str, piece: dict[str, Any], label: str) -> None:
    """One piece to the render queue while the batch still samples (no result kept: the
    chord's own task for the piece reports it, finding it stored)."""
    render_piece.apply_async((batch_id, fanout_id, piece, label), ignore_result=True)


def send_pieces(plan: fanout.Plan) -> None:
    """One render_piece task per piece (a group), then finish_batch with their reports (the
    chord's callback). Without a broker Celery runs them all here, in order."""
    if not plan.pieces:  # all stored by earlier attempts: only the end is left to make
        finish_batch.delay([], plan.batch_id, plan.id)
        return
    header = group(
        render_piece.s(plan.batch_id, plan.id, piece, plan.label) for piece in plan.pieces
    )
    callback = finish_batch.s(plan.batch_id, plan.id).on_error(
        batch_unfinished.s(plan.batch_id, plan.id)
    )
    chord(header)(callback)


@shared_task(
    bind=True,
    name="bachsurvey.tasks.render_piece",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,  # the chord's callback reads every piece's report
)
def render_piece(
    self: Task, batch_id: int, fanout_id: str, piece: dict[str, Any], label: str
) -> dict[str, Any]:
    """Render and store one piece of a batch; reports ``{"index", "stored", "worker"}`` and a
    reason it did not store (``skipped``, ``error``). Never raises: the callback must run."""
    worker = self.request.hostname or "in-process"
    return {**fanout.render_one(batch_id, fanout_id, piece, label, worker), "worker": worker}


class _Finishing(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """Out of retries: fail the batch rather than leave it running forever."""
        _, batch_id, fanout_id = args
        fanout.give_up(batch_id, fanout_id, f"{type(exc).__name__}: {exc}")


@shared_task(
    base=_Finishing,
    name="bachsurvey.tasks.finish_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    max_retries=FINISH_RETRIES,
    retry_backoff=2,
    retry_backoff_max=120,
)
def finish_batch(reports: list[dict[str, Any]], batch_id: int, fanout_id: str) -> str:
    """The chord's callback: end the batch once its pieces have reported (count, judge, done;
    or failed, naming what failed)."""
    return fanout.finish(batch_id, fanout_id, reports)


@shared_task(name="bachsurvey.tasks.batch_unfinished")
def batch_unfinished(
    request: Any, exc: Exception, traceback: Any, batch_id: int, fanout_id: str
) -> None:
    """The callback's error handler, called where the chord failed (a piece task that raised
    after all, or a callback that failed for good): the batch is failed with the error."""
    logger.error("batch %s: its chord failed: %s", batch_id, exc)
    fanout.give_up(batch_id, fanout_id, f"{type(exc).__name__}: {exc}")


@shared_task(
    name="bachsurvey.tasks.run_grid_configuration", acks_late=True, reject_on_worker_lost=True
)
def run_grid_configuration(run_id: int) -> str:
    """Train one configuration of a grid search and store its results row."""
    return grid_runs.run(run_id)
