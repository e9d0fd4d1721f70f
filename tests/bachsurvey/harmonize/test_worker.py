"""With a broker the POST only queues: a real Celery worker (tests/bachsurvey/worker.py) on the
gpu queue harmonizes, and the status moves from pending to done, files and all."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from bachsurvey.models import Harmonization
from tests.bachsurvey.harmonize.helpers import SHORT, post
from tests.bachsurvey.worker import Worker, wait_until

pytestmark = pytest.mark.slow


def test_a_worker_harmonizes_what_the_web_process_queued(
    transactional_db: None, worker: Worker, client: Client
) -> None:
    created = post(client, SHORT)
    assert created.status_code == 202, created.content
    first = client.get(created.json()["status_url"]).json()
    assert first["status"] in ("pending", "running") and first["score_url"] is None

    def finished() -> dict | None:
        state = client.get(created.json()["status_url"]).json()
        return state if state["status"] in ("done", "failed") else None

    state = wait_until(finished, 120, f"the harmonization\n{worker.logs()}")
    assert state["status"] == "done", state
    row = Harmonization.objects.get()
    assert (Path(worker.env["DJANGO_MEDIA_ROOT"]) / row.folder / "audio.mp3").is_file()
    assert client.get(state["audio_url"]).status_code == 200
    assert "bachsurvey.tasks.harmonize_melody" in worker.logs()
