"""Stopping and seeing batches with a real Celery worker on the real Redis and PostgreSQL: a task
whose worker keeps dying gives up, a running batch is cancelled between pieces, and the admin
sees the worker, its queues and the messages waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from bachsurvey.generation import jobs, review, workers
from bachsurvey.models import Batch, Chorale, Clip, Question
from bachsurvey.quiz import sql
from tests.bachsurvey.worker import BROKER_URL, Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def harmonization(count: int, **fields: Any) -> Batch:
    """A small, quick batch (greedy soprano harmonizations of two-second windows), queued."""
    batch = jobs.prepare(
        Batch(mode="harmonize", voices="S", count=count, method="greedy", frames=16, **fields)
    )
    with transaction.atomic():
        batch.save()
        jobs.queue(batch)
    return batch


def task_results(worker: Worker, task: str = "generate_batch") -> list[str]:
    """What the worker's ``task`` tasks returned so far (from its log, in order)."""
    return [
        line.rsplit(": ", 1)[-1]
        for line in worker.log.read_text().splitlines()
        if f"bachsurvey.tasks.{task}[" in line and " succeeded in " in line
    ]


def next_result(worker: Worker, seen: int, timeout: float, task: str = "generate_batch") -> str:
    """The return value of the next ``task`` to end after the ``seen`` ones the log shows now."""
    results = wait_until(
        lambda: task_results(worker, task)[seen:], timeout, f"a task ({worker.log})"
    )
    return results[0]


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_task_whose_worker_keeps_dying_gives_up(worker: Worker, checkpoint_path: Path) -> None:
    # Two deliveries have died already (their worker killed mid-piece); this is the last allowed.
    batch = harmonization(
        8, status=Batch.Status.RUNNING, attempts=2, stage="rendering piece 3 of 8"
    )
    assert settings.GENERATION_MAX_ATTEMPTS == 3
    wait_until(lambda: Batch.objects.get(pk=batch.pk).attempts == 3, 120, "a third start")
    worker.kill()  # the third dies too
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.RUNNING
    worker.start()  # Redis hands the message out again: it must not run a fourth time
    assert next_result(worker, 0, 120) == "'failed'"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FAILED and batch.attempts == 3
    assert batch.error.startswith("gave up after 3 attempts; the last: attempt 3 ended without")
    assert batch.finished_at is not None


@pytest.mark.slow
def test_a_running_batch_is_cancelled_between_pieces(worker: Worker, checkpoint_path: Path) -> None:
    before, seen = media_files(), len(task_results(worker, "finish_batch"))
    batch = harmonization(12)
    wait_until(lambda: Batch.objects.get(pk=batch.pk).done >= 1, 180, "a first piece")
    jobs.cancel_batch(batch.pk)
    # Once the cancel committed, no piece may be stored: count them now, and after the pieces'
    # tasks have all reported (the batch's finish_batch task ends).
    stored = set(Chorale.objects.filter(batch=batch).values_list("index", flat=True))
    assert next_result(worker, seen, 120, "finish_batch") == "'cancelled'"
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and 1 <= len(stored) < 12
    assert set(Chorale.objects.filter(batch=batch).values_list("index", flat=True)) == stored
    assert batch.done == len(stored) and batch.progressed_at >= batch.started_at
    # Nothing of it is served or can be approved.
    questions = Question.objects.filter(clip_generated__chorale__batch=batch)
    assert questions.count() == len(stored)
    assert review.approve(questions).approved == 0
    questions.update(status=Question.Status.APPROVED, live=True)  # even if forced live
    assert not {q.pk for q in questions} & {drawable.pk for drawable in sql.live_questions()}
    # A piece rendered when the cancel came left no files: every new file belongs to a clip.
    clips = Clip.objects.filter(chorale__batch=batch) | Clip.objects.filter(
        pk__in=questions.values("clip_real")
    )
    named = {name for clip in clips for name in (clip.audio.name, clip.score.name)}
    assert media_files() - before == named


def test_the_admin_sees_the_worker_its_queues_and_what_waits(
    worker: Worker, admin_client: Client, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = BROKER_URL
    status = workers.queue_status()
    assert status.error == "" and len(status.workers) == 1, status
    (name,) = status.workers
    assert name.startswith(f"test{worker.starts}-")
    assert status.workers[name] == ["celery", "gpu", "render"]
    assert status.consumers("gpu") == status.consumers("render") == [name]
    assert status.waiting == {"celery": 0, "gpu": 0, "render": 0}
    page = admin_client.get("/admin/bachsurvey/batch/").content.decode()
    assert (
        "1 worker(s) consume the gpu queue; 0 message(s) waiting there; "
        "1 worker(s) consume the render queue; 0 message(s) waiting there"
    ) in page
    assert f"<tr><th>gpu</th><td>0</td><td>{name}</td></tr>" in page
    assert f"<tr><th>render</th><td>0</td><td>{name}</td></tr>" in page

    worker.stop()  # nobody consumes gpu now: what is queued waits
    batch = harmonization(1)
    status = workers.queue_status()
    assert status.workers == {} and status.waiting["gpu"] == 1
    page = admin_client.get("/admin/bachsurvey/batch/").content.decode()
    assert "NO worker consumes gpu; 1 message(s) waiting there; NO worker consumes render" in page
    assert "<tr><th>gpu</th><td>1</td><td>NO worker</td></tr>" in page
    jobs.cancel_batch(batch.pk)  # the next test's worker takes the message and finds nothing
