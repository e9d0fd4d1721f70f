"""The batch admin: stale batches in the list and on the page, Cancel and Retry buttons that ask
first, the staff-only progress endpoint, the queue panel without a broker or with a dead one."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from bachsurvey.generation import workers
from bachsurvey.models import Batch

pytestmark = pytest.mark.django_db
ADMIN = "/admin/bachsurvey/batch"


def batch_of(status: str = Batch.Status.RUNNING, **fields: Any) -> Batch:
    values = {"name": f"b{random.random()}", "mode": "free", "voices": "SATB", "count": 4}
    return Batch.objects.create(**{**values, "status": status, **fields})


def stale_batch(**fields: Any) -> Batch:
    return batch_of(progressed_at=timezone.now() - timedelta(hours=2), **fields)


def test_the_list_and_the_page_show_a_stale_batch(admin_client: Client, settings: Any) -> None:
    settings.GENERATION_STALE_SECONDS = 1800
    stuck, fresh = stale_batch(name="stuck run"), batch_of(name="fresh run")
    listing = admin_client.get(f"{ADMIN}/").content.decode()
    assert "running, stale (quiet for 2 h 0 min)" in listing
    assert listing.count(", stale (") == 1  # the fresh one is just running
    page = admin_client.get(f"{ADMIN}/{stuck.pk}/change/").content.decode()
    assert "running, stale (quiet for 2 h 0 min)" in page
    assert 'id="batch-retry"' in page and 'id="batch-cancel"' in page
    page = admin_client.get(f"{ADMIN}/{fresh.pk}/change/").content.decode()
    assert 'id="batch-retry"' not in page and 'id="batch-cancel"' in page


def test_the_retry_action_queues_a_stale_batch(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    stuck, fresh = stale_batch(), batch_of()
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(
            f"{ADMIN}/", {"action": "retry", "_selected_action": [stuck.pk, fresh.pk]}
        )
    assert Batch.objects.get(pk=stuck.pk).status == Batch.Status.PENDING
    assert Batch.objects.get(pk=fresh.pk).status == Batch.Status.RUNNING
    assert len(queued) == 1


def test_cancel_asks_first_then_cancels(admin_client: Client) -> None:
    batch = batch_of(done=1)
    page = admin_client.get(f"{ADMIN}/{batch.pk}/cancel/").content.decode()
    assert "is running: 1 of 4 pieces stored" in page and 'value="Yes, cancel it"' in page
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.RUNNING  # asked, not done
    done = admin_client.post(f"{ADMIN}/{batch.pk}/cancel/", follow=True)
    assert done.redirect_chain[-1][0] == f"{ADMIN}/{batch.pk}/change/"
    assert "Cancelled:" in done.content.decode()
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.CANCELLED
    again = admin_client.post(f"{ADMIN}/{batch.pk}/cancel/", follow=True).content.decode()
    assert "Nothing changed:" in again and "is cancelled already" in again
    page = admin_client.get(f"{ADMIN}/{batch.pk}/change/").content.decode()
    assert 'id="batch-retry"' in page and 'id="batch-cancel"' not in page


def test_retry_from_the_page_asks_first(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    batch = batch_of(Batch.Status.CANCELLED, done=1)
    assert (
        'value="Yes, retry it"' in admin_client.get(f"{ADMIN}/{batch.pk}/retry/").content.decode()
    )
    with django_capture_on_commit_callbacks() as queued:
        admin_client.post(f"{ADMIN}/{batch.pk}/retry/")
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.PENDING and len(queued) == 1


def test_the_progress_endpoint_is_for_staff_only(admin_client: Client, client: Client) -> None:
    batch = batch_of(done=3, stage="rendering piece 4 of 4", error="")
    reply = admin_client.get(f"{ADMIN}/{batch.pk}/progress.json")
    assert reply.status_code == 200 and "no-cache" in reply["Cache-Control"]
    assert reply.json() == {
        "batch": batch.pk, "status": "running", "done": 3, "count": 4,
        "stage": "rendering piece 4 of 4", "stale": False, "state": "running", "ended": False,
        "error": None,
    }  # fmt: skip
    assert client.get(f"{ADMIN}/{batch.pk}/progress.json").status_code == 302  # to the login
    client.force_login(User.objects.create_user("visitor", is_staff=False))
    assert client.get(f"{ADMIN}/{batch.pk}/progress.json").status_code == 302
    assert admin_client.get(f"{ADMIN}/987654/progress.json").status_code == 404


def test_the_page_carries_the_progress_bar_and_its_script(admin_client: Client) -> None:
    batch = batch_of(done=1)
    page = admin_client.get(f"{ADMIN}/{batch.pk}/change/").content.decode()
    assert '<progress id="batch-progress" value="1" max="4"' in page
    assert f'data-url="{ADMIN}/{batch.pk}/progress.json" data-ended="false"' in page
    assert '<script src="/static/admin-batch/progress.js"></script>' in page


@pytest.mark.usefixtures("in_process_tasks")
def test_without_a_broker_the_panel_says_tasks_run_in_process(admin_client: Client) -> None:
    page = admin_client.get(f"{ADMIN}/").content.decode()
    assert 'id="queue-status"' in page and "no broker configured: tasks run in-process" in page


def test_a_dead_broker_costs_the_list_seconds_not_a_hang(
    admin_client: Client, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    started = time.monotonic()
    page = admin_client.get(f"{ADMIN}/").content.decode()
    assert time.monotonic() - started < 5 * workers.CONNECT_TIMEOUT_S
    assert "the broker does not answer" in page and "Connection refused" in page
