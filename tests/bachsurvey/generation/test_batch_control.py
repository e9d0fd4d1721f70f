"""Batches that can be stopped, seen and retried, without a worker: the attempt limit, cancel,
stale batches, the admin's buttons and confirmation pages, the progress endpoint, the command."""

from __future__ import annotations

import random
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bachsurvey.generation import batch_state, batches, jobs
from bachsurvey.management.commands import generate_batch
from bachsurvey.models import Batch, Chorale
from tests.bachsurvey.conftest import settings_in_a_fresh_process

pytestmark = pytest.mark.django_db


def batch_of(status: str = Batch.Status.RUNNING, **fields: Any) -> Batch:
    values = {"name": f"b{random.random()}", "mode": "harmonize", "voices": "S", "count": 4}
    return Batch.objects.create(**{**values, "status": status, **fields})


def quiet(batch: Batch, seconds: float) -> Batch:
    """The batch as if its last sign of life was ``seconds`` ago."""
    Batch.objects.filter(pk=batch.pk).update(
        progressed_at=timezone.now() - timedelta(seconds=seconds)
    )
    batch.refresh_from_db()
    return batch


# --- bounded attempts ----------------------------------------------------------------------------


def test_a_batch_whose_worker_kept_dying_is_failed_instead_of_run_again(settings: Any) -> None:
    # What a third redelivery finds: running (no attempt came back), started three times.
    settings.GENERATION_MAX_ATTEMPTS = 3
    batch = batch_of(attempts=3, stage="rendering piece 2 of 4", done=1)
    ran = batches.run_batch(batch.pk)
    assert ran is not None and ran.status == Batch.Status.FAILED
    assert ran.error.startswith("gave up after 3 attempts; the last: attempt 3 ended without")
    assert "while rendering piece 2 of 4" in ran.error
    assert ran.attempts == 3 and ran.finished_at is not None  # not started a fourth time
    assert batches.run_batch(batch.pk) is None  # and a later delivery finds nothing to do


def test_below_the_limit_it_runs_and_records_the_lost_attempt(settings: Any) -> None:
    settings.GENERATION_MAX_ATTEMPTS = 3
    # A checkpoint that does not exist: the attempt runs (and fails at once, with its error).
    batch = batch_of(attempts=1, stage="sampling pass 1 of 1", checkpoint="/nonexistent.pt")
    ran = batches.run_batch(batch.pk)
    assert ran.attempts == 2 and ran.status == Batch.Status.FAILED
    assert "/nonexistent.pt" in ran.error and "gave up" not in ran.error


def test_the_limit_is_a_setting_that_fails_loudly() -> None:
    assert settings_in_a_fresh_process(
        ["GENERATION_MAX_ATTEMPTS", "GENERATION_STALE_SECONDS"],
        GENERATION_MAX_ATTEMPTS="5",
        GENERATION_STALE_SECONDS="60",
    ) == ["5", "60"]
    for name, value, says in [
        ("GENERATION_MAX_ATTEMPTS", "0", "GENERATION_MAX_ATTEMPTS must be at least 1, got 0"),
        ("GENERATION_MAX_ATTEMPTS", "three", "GENERATION_MAX_ATTEMPTS must be an integer"),
        ("GENERATION_STALE_SECONDS", "-1", "GENERATION_STALE_SECONDS must be at least 1"),
    ]:
        with pytest.raises(AssertionError, match=says):
            settings_in_a_fresh_process(["GENERATION_MAX_ATTEMPTS"], **{name: value})


# --- cancel --------------------------------------------------------------------------------------


def test_a_cancelled_batch_is_never_run_and_can_be_retried(
    django_capture_on_commit_callbacks: Any,
) -> None:
    batch = batch_of(Batch.Status.PENDING)
    jobs.cancel_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.CANCELLED and batch.finished_at is not None
    assert batches.run_batch(batch.pk) is None  # its queued message finds nothing to do
    assert not Chorale.objects.filter(batch=batch).exists()
    with django_capture_on_commit_callbacks() as queued:
        jobs.retry_batch(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.finished_at) == ("pending", 0, None)
    assert len(queued) == 1


@pytest.mark.parametrize("status", [Batch.Status.DONE, Batch.Status.FAILED, "cancelled"])
def test_only_an_unfinished_batch_can_be_cancelled(status: str) -> None:
    batch = batch_of(status)
    with pytest.raises(jobs.BatchError, match=f"is {status} already"):
        jobs.cancel_batch(batch.pk)
    assert Batch.objects.get(pk=batch.pk).status == status


def test_the_command_cancels_and_names_what_it_refuses() -> None:
    batch = batch_of(done=2)
    out = StringIO()
    call_command("generate_batch", "--cancel", str(batch.pk), stdout=out)
    assert out.getvalue() == f"cancelled batch {batch.pk}: {batch.name}, 2 stored\n"
    with pytest.raises(CommandError, match="is cancelled already: only a pending or running"):
        call_command("generate_batch", "--cancel", str(batch.pk))
    with pytest.raises(CommandError, match="there is no generation batch 987654"):
        call_command("generate_batch", "--cancel", "987654")
    with pytest.raises(CommandError, match="there is no generation batch 987654"):
        call_command("generate_batch", "--retry", "987654")


# --- stale ---------------------------------------------------------------------------------------


def test_a_quiet_running_batch_is_stale_and_can_be_retried(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GENERATION_STALE_SECONDS = 600
    batch = quiet(batch_of(attempts=1), 599)
    assert not batch_state.is_stale(batch)
    with pytest.raises(jobs.BatchError, match="only a failed, cancelled or stale batch"):
        jobs.retry_batch(batch.pk)
    batch = quiet(batch, 3 * 3600 + 5 * 60)
    assert batch_state.is_stale(batch)
    assert batch_state.describe(batch) == "running, stale (quiet for 3 h 5 min)"
    with django_capture_on_commit_callbacks() as queued:
        jobs.retry_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.PENDING and not batch_state.is_stale(batch)
    assert len(queued) == 1


def test_a_pending_batch_no_worker_took_goes_stale_from_its_creation(settings: Any) -> None:
    settings.GENERATION_STALE_SECONDS = 60
    batch = batch_of(Batch.Status.PENDING)
    Batch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    batch.refresh_from_db()
    assert batch.progressed_at is None and batch_state.is_stale(batch)
    assert not batch_state.is_stale(quiet(batch_of(Batch.Status.DONE), 10**6))


def test_waiting_on_a_stale_batch_says_so_and_how_to_retry_it(
    settings: Any, capsys: pytest.CaptureFixture
) -> None:
    settings.GENERATION_STALE_SECONDS = 60
    batch = quiet(batch_of(), 3600)
    followed = generate_batch.wait(batch, poll=0.01, timeout=0)
    assert followed.status == Batch.Status.RUNNING
    said = capsys.readouterr().err
    assert f"batch {batch.pk} is stale: no progress for 1 h 0 min" in said
    assert f"generate_batch --retry {batch.pk} queues it again" in said


def test_waiting_on_pieces_that_no_worker_renders_says_so(capsys: pytest.CaptureFixture) -> None:
    out = batch_of(attempts=1, fanout={"id": "f", "pieces": 4, "sent": True, "starts": {}})
    generate_batch.wait(quiet(out, 5), poll=0.01, timeout=0)
    assert "render queue" not in capsys.readouterr().err  # pieces take seconds each
    generate_batch.wait(quiet(out, 60), poll=0.01, timeout=0)
    said = " ".join(capsys.readouterr().err.split())
    assert "its pieces are queued but none was stored for a while" in said
    assert "is a worker consuming the render queue? (celery -A bachsurvey worker -Q render)" in said


def test_the_command_says_why_a_batch_it_followed_is_not_done(settings: Any) -> None:
    settings.GENERATION_STALE_SECONDS = 60
    stuck = quiet(batch_of(), 3600)
    assert generate_batch.not_done(stuck) == (
        f"batch {stuck.pk} is running, stale (quiet for 1 h 0 min): timed out; "
        f"queue it again with --retry {stuck.pk}"
    )
    stopped = batch_of(Batch.Status.CANCELLED)
    assert generate_batch.not_done(stopped) == (
        f"batch {stopped.pk} is cancelled: queue it again with --retry {stopped.pk}"
    )
    failed = batch_of(Batch.Status.FAILED, error="GenerationError: no windows")
    assert (
        generate_batch.not_done(failed)
        == f"batch {failed.pk} is failed: GenerationError: no windows"
    )


def test_the_help_mentions_stale_batches(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        call_command("generate_batch", "--help")
    said = capsys.readouterr().out
    assert "or stale one (pending or running with no progress for" in " ".join(said.split())
    assert "--cancel ID" in said
