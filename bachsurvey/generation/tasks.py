"""Celery tasks. Heavy work goes to the `gpu` queue (CELERY_TASK_ROUTES in settings).

Each task takes an id, is queued by bachsurvey.generation.jobs once the transaction that made its
row commits (`delay_on_commit`), is acknowledged only when it ends (a worker killed mid-task
leaves its message to be handed out again) and is safe to run twice: the services it calls skip
what is stored. torch is imported inside the services they call, never when the worker starts.

Each task's name is given, not derived from this module's path: queued messages, the routes in
settings (CELERY_TASK_ROUTES) and any beat schedule name the tasks by it, wherever the code lives.
"""

from __future__ import annotations

from celery import shared_task

from bachsurvey.generation import batches, grid_runs


@shared_task(name="bachsurvey.tasks.generate_batch", acks_late=True, reject_on_worker_lost=True)
def generate_batch(batch_id: int) -> str:
    """Make what is missing of a generation batch; its status row tells how it went."""
    batch = batches.run_batch(batch_id)
    return batch.status if batch is not None else "skipped"


@shared_task(
    name="bachsurvey.tasks.run_grid_configuration", acks_late=True, reject_on_worker_lost=True
)
def run_grid_configuration(run_id: int) -> str:
    """Train one configuration of a grid search and store its results row."""
    return grid_runs.run(run_id)
