"""``/readyz``: 200 with each part's status, or 503 naming the part that fails (issue 19, 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
REDIS_CACHE = "bachsurvey.redis_cache.ReusingRedisCache"


@pytest.fixture
def writable_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def ready(client: Client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, response.json()


def test_ready_names_every_part(client: Client, writable_media: Path) -> None:
    status, body = ready(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"]["database"] == body["checks"]["cache"] == body["checks"]["media"] == "ok"
    assert body["checks"]["broker"].startswith(("ok", "not configured"))
    assert not list(writable_media.iterdir())  # its test file is gone


def test_a_cache_on_a_closed_port_is_named(
    client: Client, settings: Any, writable_media: Path
) -> None:
    settings.CACHES = {"default": {"BACKEND": REDIS_CACHE, "LOCATION": CLOSED_PORT}}
    try:
        status, body = ready(client)
    finally:
        caches["default"].close()
    assert status == 503, body
    assert body["failing"] == ["cache"] and body["checks"]["cache"].startswith("failing")
    assert body["checks"]["database"] == "ok"


def test_an_unwritable_media_root_is_named(client: Client, settings: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"  # below a file: nobody, root included, can write it
    status, body = ready(client)
    assert status == 503 and body["failing"] == ["media"], body


def test_a_broker_on_a_closed_port_is_named(
    client: Client, settings: Any, writable_media: Path
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = CLOSED_PORT
    status, body = ready(client)
    assert status == 503 and body["failing"] == ["broker"], body


def test_a_reachable_broker_is_ok(client: Client, settings: Any, writable_media: Path) -> None:
    from tests.bachsurvey.worker import BROKER_URL

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = BROKER_URL
    status, body = ready(client)
    assert status == 200 and body["checks"]["broker"] == "ok", body
