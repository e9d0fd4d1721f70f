"""A batch spread over workers: the batch's task samples and pairs, one task per piece renders
and stores it (on the `render` queue), and a chord's callback finishes the batch.

With a real Celery worker on every queue and a second one on `render` only (as a CPU machine
runs one), on the real Redis and PostgreSQL; and in-process, as without a broker.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client

from bachsurvey import celery_app
from bachsurvey.generation import batch_judge, batches, fanout, jobs, pieces, tasks, validity
from bachsurvey.models import Batch, Chorale, Question
from tests.bachsurvey.conftest import settings_in_a_fresh_process
from tests.bachsurvey.generation.test_batches import FREE_FRAMES, generate
from tests.bachsurvey.worker import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = re.compile(r"Task bachsurvey\.tasks\.(\w+)\[([0-9a-f-]+)\] succeeded in [\d.]+s: (.*)$")


@pytest.fixture(scope="module")
def render_worker(
    celery_worker: Worker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """A second worker that only renders (the `render` queue), on the session worker's media."""
    media = Path(celery_worker.env["DJANGO_MEDIA_ROOT"])
    second = Worker(tmp_path_factory.mktemp("render-logs"), media, queues="render", name="render")
    second.start()
    yield second
    second.stop()  # before the next module, whose tests count the workers


def reports(task: str, *workers: Worker) -> list[tuple[str, Any]]:
    """(task id, what it returned) for every ``task`` the workers' logs show ended, in order; a
    task id twice when its message was handed out again (the tests' visibility timeout is 3 s)."""
    found = []
    for worker in workers:
        for log in sorted(worker.log_dir.glob("worker-*.log")):
            for line in log.read_text().splitlines():
                match = REPORT.search(line)
                if match and match[1] == task:
                    found.append((match[2], ast.literal_eval(match[3])))
    return found


def indices(batch: Batch) -> list[int]:
    return sorted(Chorale.objects.filter(batch=batch).values_list("index", flat=True))


def assert_one_of_each(batch: Batch) -> None:
    """``count`` pieces, each index, piece and Bach excerpt once."""
    generated = Chorale.objects.filter(batch=batch)
    assert indices(batch) == list(range(batch.count))
    assert len({json.dumps(c.tokens) for c in generated}) == batch.count
    questions = Question.objects.filter(clip_generated__chorale__batch=batch)
    excerpts = [validity.excerpt_of(q) for q in questions]
    assert len(excerpts) == batch.count
    assert not any(a.overlaps(b) for i, a in enumerate(excerpts) for b in excerpts[i + 1 :])


# --- with workers --------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_render_a_batch_between_them(
    worker: Worker, render_worker: Worker, checkpoint_path: Path, admin_client: Client
) -> None:
    before = {task_id for task_id, _ in reports("render_piece", worker, render_worker)}
    result = generate("--mode", "free", "--count", "6", "--seed", "21", frames=FREE_FRAMES)
    assert result == {**result, "status": "done", "chorales": 6, "questions": 6, "error": None}
    batch = Batch.objects.get(pk=result["batch"])
    assert batch.judge["pairs"] == 6 and batch.judge["accuracy"] is not None
    # The judge ran on the planned pairs while the renders went on: its verdict is the one the
    # stored pairs get.
    assert batch.judge == batch.fanout["verdict"] == batch_judge.judge(batch)
    assert_one_of_each(batch)
    # Each piece was stored by a task of its own; only one worker sampled.
    stored = [
        (task_id, report)
        for task_id, report in reports("render_piece", worker, render_worker)
        if task_id not in before and report["stored"]
    ]
    assert sorted(report["index"] for _, report in stored) == list(range(6))
    assert len({task_id for task_id, _ in stored}) == 6
    by_worker = Counter(report["worker"] for _, report in stored)
    # The render worker took pieces while the other sampled and judged (each piece is sent the
    # moment it is paired); whichever stored a piece is credited with it.
    assert any(name.startswith("render") for name in by_worker)
    assert batch.fanout["workers"] == dict(by_worker)
    page = admin_client.get(f"/admin/bachsurvey/batch/{batch.pk}/change/").content.decode()
    assert all(f"{name}: {pieces}" in page for name, pieces in by_worker.items())
    assert "running" in [result for _, result in reports("generate_batch", worker)]  # pieces out
    assert not reports("generate_batch", render_worker)

    # Run again, nothing is stored twice: its task finds it done, and a piece's message handed
    # out once more finds its batch ended.
    assert tasks.generate_batch.apply(args=[batch.pk]).get() == "skipped"
    question = Question.objects.get(
        clip_generated__chorale__batch=batch, clip_generated__chorale__index=0
    )
    real, mine = question.clip_real, question.clip_generated
    piece = pieces.Piece(
        0, real.chorale.source, real.chorale.tokens, (real.frame_start, real.frame_end),
        mine.chorale.tokens, (mine.frame_start, mine.frame_end), real.transpose, "",
    )  # fmt: skip
    again = fanout.render_one(batch.pk, batch.fanout["id"], piece.to_json(), "label")
    assert again["stored"] is False and "no longer running" in again["skipped"]
    assert indices(batch) == list(range(6))


@pytest.mark.slow
def test_a_cancel_mid_fan_out_stops_the_rest_and_a_retry_fills_them_in(
    worker: Worker, render_worker: Worker, checkpoint_path: Path
) -> None:
    seen = {
        task_id
        for task in ("finish_batch", "generate_batch")
        for task_id, _ in reports(task, worker, render_worker)
    }
    batch = jobs.create_batch(mode="free", count=8, seed=23, frames=int(FREE_FRAMES))
    # Pieces are rendered from the moment they are paired: the first is stored while the batch
    # still samples, or judges, or has sent its plan.
    wait_until(lambda: Batch.objects.get(pk=batch.pk).done >= 1, 180, "a first piece")
    jobs.cancel_batch(batch.pk)
    stored = indices(batch)  # once the cancel committed, no piece may be stored

    def settled() -> bool:
        """The batch's task has stopped (sampling stops at the next piece), and when it had
        sent its plan, the plan's callback has reported."""
        if not [t for t, _ in reports("generate_batch", worker) if t not in seen]:
            return False
        sent = Batch.objects.get(pk=batch.pk).fanout.get("sent")
        return not sent or bool(
            [r for t, r in reports("finish_batch", worker, render_worker) if t not in seen]
        )

    wait_until(settled, 120, "the batch's task and pieces to stop")
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and 1 <= len(stored) < 8
    assert indices(batch) == stored and batch.done == len(stored)

    result = generate("--retry", str(batch.pk), frames=FREE_FRAMES)
    assert result == {**result, "status": "done", "chorales": 8, "questions": 8, "exit": None}
    batch.refresh_from_db()
    assert batch.attempts == 1  # a retry starts a fresh count
    assert batch.fanout["pieces"] == 8 - len(stored)  # only what was missing was sent
    assert_one_of_each(batch)


# --- in-process ----------------------------------------------------------------------------------


def small_harmonization(count: int) -> Batch:
    batch = jobs.prepare(
        Batch(mode="harmonize", voices="S", count=count, method="greedy", frames=16, seed=3)
    )
    batch.save()  # not queued
    return batch


@pytest.mark.usefixtures("in_process_tasks")
def test_a_piece_is_stored_once_and_one_whose_worker_keeps_dying_gives_up(
    media_root: Path, settings: Any, checkpoint_path: Path
) -> None:
    batch = small_harmonization(2)
    plans: list[fanout.Plan] = []
    batches.run_batch(batch.pk, plans.append)  # sampled and paired; nothing sent
    (plan,) = plans
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING and batch.fanout["id"] == plan.id
    first, second = plan.pieces
    assert json.loads(json.dumps(plan.pieces)) == plan.pieces  # what a message carries
    # The message handed out again after its piece was stored stores nothing.
    assert fanout.render_one(batch.pk, plan.id, first, plan.label) == {"index": 0, "stored": True}
    assert fanout.render_one(batch.pk, plan.id, first, plan.label) == {"index": 0, "stored": False}
    # A piece of another attempt's plan is not stored beside this plan's.
    stale = fanout.render_one(batch.pk, "an older plan", second, plan.label)
    assert "run by another attempt" in stale["skipped"]
    assert fanout.finish(batch.pk, "an older plan", []) == Batch.Status.RUNNING
    # A piece whose task started GENERATION_MAX_ATTEMPTS times already (its worker lost each
    # time) gives up without rendering, and the batch fails naming it.
    limit = settings.GENERATION_MAX_ATTEMPTS
    Batch.objects.filter(pk=batch.pk).update(fanout={"id": plan.id, "starts": {"1": limit}})
    gave_up = fanout.render_one(batch.pk, plan.id, second, plan.label)
    assert gave_up == {
        "index": 1,
        "stored": False,
        "error": f"PieceGaveUp: gave up after {limit} starts: its worker was lost each time",
    }
    assert fanout.finish(batch.pk, plan.id, [gave_up]) == Batch.Status.FAILED
    batch.refresh_from_db()
    assert batch.error == f"1 of 2 pieces stored; piece 1: {gave_up['error']}"
    assert batch.done == 1

    # Without a broker, a retry runs here (the task, its one piece, the chord's callback) before
    # the command prints its line.
    out = StringIO()
    call_command("generate_batch", "--retry", str(batch.pk), "--wait", stdout=out)
    line = json.loads(out.getvalue())
    assert line == {**line, "status": "done", "chorales": 2, "questions": 2, "error": None}
    assert line["judge"] == {**line["judge"], "pairs": 2, "accuracy": None}  # too few to judge
    batch.refresh_from_db()
    assert batch.fanout["pieces"] == 1 and sum(batch.fanout["workers"].values()) == 1
    assert indices(batch) == [0, 1] and batch.attempts == 1


@pytest.mark.slow
@pytest.mark.usefixtures("in_process_tasks")
def test_each_free_piece_is_sent_the_moment_it_is_paired(
    media_root: Path, checkpoint_path: Path
) -> None:
    """Render workers may start on a piece while the batch still samples; the plan then sends
    every piece again (its chord), and the task that comes second finds it stored."""
    batch = jobs.prepare(Batch(mode="free", count=3, seed=5, frames=int(FREE_FRAMES)))
    batch.save()  # not queued
    early: list[tuple[int, str, dict, str]] = []
    plans: list[fanout.Plan] = []

    def send_early(batch_id: int, fanout_id: str, piece: dict, label: str) -> None:
        assert not plans  # before the plan: while the pass still samples
        early.append((batch_id, fanout_id, piece, label))

    batches.run_batch(batch.pk, plans.append, send_early)
    (plan,) = plans
    assert [piece for *_, piece, _ in early] == plan.pieces
    assert {(b, f, label) for b, f, _, label in early} == {(batch.pk, plan.id, plan.label)}
    # Stored by the early task, the chord's finds it there; the batch ends with one of each.
    first = early[0][2]
    assert fanout.render_one(batch.pk, plan.id, first, plan.label, "early")["stored"] is True
    fanout.run_here(plan)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DONE and batch.fanout["workers"] == {
        "early": 1,
        "in-process": 2,
    }
    assert_one_of_each(batch)


def test_a_callback_that_keeps_failing_fails_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = small_harmonization(2)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING, fanout={"id": "f"})
    calls = []

    def away(*args: object) -> str:
        calls.append(args)
        raise OperationalError("the database went away")

    monkeypatch.setattr(fanout, "finish", away)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)  # retried in apply()
    result = tasks.finish_batch.apply(args=([], batch.pk, "f"))
    assert result.state == "FAILURE" and isinstance(result.result, OperationalError)
    assert len(calls) == tasks.FINISH_RETRIES + 1  # retried, then given up
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FAILED and batch.finished_at is not None
    assert batch.error == (
        "its pieces could not be finished: OperationalError: the database went away"
    )


def test_the_result_backend_is_the_brokers_redis_unless_named() -> None:
    assert settings_in_a_fresh_process(
        ["CELERY_RESULT_BACKEND"], CELERY_BROKER_URL="redis://127.0.0.1:6379/3"
    ) == ["redis://127.0.0.1:6379/3"]
    with pytest.raises(AssertionError, match="CELERY_RESULT_BACKEND must be set when"):
        settings_in_a_fresh_process(["CELERY_RESULT_BACKEND"], CELERY_BROKER_URL="amqp://h//")
