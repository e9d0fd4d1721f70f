"""The harmonizer's task, on the `gpu` queue (CELERY_TASK_ROUTES in settings).

It takes the request's id, is acknowledged when it ends and is safe to run twice (a done or
failed request is left alone). torch is imported in bachsurvey.harmonize.work's functions, never
when the worker starts. The name is given, as bachsurvey.generation.tasks explains.
"""

from __future__ import annotations

from celery import shared_task

from bachsurvey.harmonize import work


@shared_task(name="bachsurvey.tasks.harmonize_melody", acks_late=True, reject_on_worker_lost=True)
def harmonize_melody(harmonization_id: str) -> str:
    """Harmonize a visitor's melody; its status row tells how it went."""
    return work.run(harmonization_id)
