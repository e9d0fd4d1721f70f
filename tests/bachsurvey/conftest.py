"""Survey content for the tests: live questions with small stand-in media files."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from rest_framework.test import APIClient

from bachsurvey import celery_app
from bachsurvey.env import cache_from_url
from bachsurvey.generation import content
from bachsurvey.models import Category, Chorale, Question
from tests.bachsurvey.research import data as research_data
from tests.bachsurvey.worker import BROKER_URL, Worker

# Two questions of every category and four SATB, each on its own source chorale.
QUIZ_CATEGORIES = ["S", "A", "T", "B", "AT", "ATB"] * 2 + ["SATB"] * 4
BACKGROUND = {"consent": True, "age_group": "26-45", "experience": "intermediate"}


def needs_postgresql(why: str) -> pytest.MarkDecorator:
    """Skip, saying ``why``, on any database but PostgreSQL (the SQLite default of a checkout)."""
    return pytest.mark.skipif(
        connection.vendor != "postgresql", reason=f"needs PostgreSQL (set DATABASE_URL): {why}"
    )


@pytest.fixture
def media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored(media_root: Path, folder: str, suffix: str, content: bytes) -> str:
    """A stand-in file with ``content`` and a random tail: no two files are alike, as no two
    rendered clips are (the validity rules refuse one audio file behind two questions)."""
    name = f"{folder}/{secrets.token_hex(16)}{suffix}"
    (media_root / folder).mkdir(parents=True, exist_ok=True)
    (media_root / name).write_bytes(content + secrets.token_bytes(24))
    return name


@pytest.fixture
def make_question(media_root: Path) -> Callable[..., Question]:
    counter = iter(range(1, 10_000))

    def make(category: str, source: str | None = None, frames: int = 32, live: bool = True):
        source = source or f"bwv{next(counter)}.6"
        clips = []
        # The real side is one shared row per corpus chorale, as generation batches store it.
        real, _ = Chorale.objects.get_or_create(
            kind=Chorale.Kind.REAL,
            batch=None,
            source=source,
            defaults={"tokens": ["START", "END"], "frames": frames},
        )
        generated = Chorale.objects.create(
            kind=Chorale.Kind.GENERATED,
            tokens=["START", "END"],
            frames=frames,
            source="" if category == Category.SATB else source,
            mask=category,
        )
        for chorale in (real, generated):
            clips.append(
                content.add_clip(
                    chorale=chorale,
                    frame_start=0,
                    frame_end=frames,
                    audio=_stored(media_root, "clips", ".mp3", b"\xff\xfb" * 500),
                    score=_stored(media_root, "scores", ".svg", b"<svg/>"),
                    duration_s=frames * 0.125 + 1,
                )
            )
        return content.add_question(
            category=category, clip_real=clips[0], clip_generated=clips[1], live=live
        )

    return make


@pytest.fixture
def quiz(db: None, make_question: Callable[..., Question]) -> list[Question]:
    return [make_question(category) for category in QUIZ_CATEGORIES]


@pytest.fixture
def live_quiz(transactional_db: None, make_question: Callable[..., Question]) -> list[Question]:
    """Live questions, committed, so that another process (a real server) sees them."""
    return [make_question(category) for category in QUIZ_CATEGORIES]


class QuizClient:
    """A browser session talking to the participant API."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()

    def start(self, **overrides: object) -> HttpResponse:
        return self.client.post(
            "/api/participants/", {**BACKGROUND, **overrides}, content_type="application/json"
        )

    def started(self, **overrides: object) -> dict:
        response = self.start(**overrides)
        assert response.status_code == 201, response.content
        return response.json()

    def answer(self, participant_id: str, question_id: str, choice: str = "A", **overrides):
        body = {
            "question": question_id,
            "choice": choice,
            "response_ms": 4200,
            "plays": {"A": 1, "B": 2},
            "heard_fully": {"A": True, "B": True},
        }
        return self.client.post(
            f"/api/participants/{participant_id}/answers/",
            {**body, **overrides},
            content_type="application/json",
        )

    def progress(self, participant_id: str) -> HttpResponse:
        return self.client.get(f"/api/participants/{participant_id}/")

    def withdraw(self, participant_id: str) -> HttpResponse:
        return self.client.post(f"/api/participants/{participant_id}/withdraw/")


@pytest.fixture
def quiz_client(client: Client) -> QuizClient:
    return QuizClient(client)


@pytest.fixture
def new_quiz_client() -> Callable[[], QuizClient]:
    """Another browser: a fresh session."""
    return QuizClient


# --- a real Celery worker (tests of generation batches and the grid search) ----------------------


@pytest.fixture(scope="session")
def checkpoint_path() -> Path:
    path = Path(settings.GENERATION_CHECKPOINT)
    if not path.is_file():
        pytest.fail(f"{path} is missing: train the model, or set GENERATION_CHECKPOINT")
    return path


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    checkpoint_path: Path,
) -> Iterator[Worker]:
    """One worker for the session, on the test database and Redis db 5 (flushed first).

    This process publishes to the same Redis while the fixture lasts (not eagerly).
    """
    if connection.vendor != "postgresql":
        pytest.skip("a worker process needs the PostgreSQL test database (set DATABASE_URL)")
    redis.Redis.from_url(BROKER_URL).flushdb()  # no message left from an aborted run
    previous = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    previous_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = BROKER_URL  # Celery reads it before its own setting
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False)
    forget_connections()
    media = tmp_path_factory.mktemp("worker-media")
    worker = Worker(tmp_path_factory.mktemp("worker-logs"), media)
    worker.start()
    yield worker
    worker.stop()
    celery_app.conf.update(previous)
    if previous_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = previous_env
    forget_connections()


def forget_connections() -> None:
    """Drop this process's broker connections (and producers), made with another broker URL.

    What Celery itself resets in a forked child (Celery._after_fork).
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(celery_worker: Worker, settings: Any) -> Iterator[Worker]:
    """The session's worker, running (a test may kill it), sharing MEDIA_ROOT with this test."""
    settings.MEDIA_ROOT = celery_worker.env["DJANGO_MEDIA_ROOT"]
    if celery_worker.process is None:
        celery_worker.start()
    yield celery_worker
    if celery_worker.process is None or celery_worker.process.poll() is not None:
        celery_worker.start()  # for the next test


# --- researchers (tests/bachsurvey/research/data.py) ---------------------------------------------


@pytest.fixture
def seeded(db: None) -> research_data.Seeded:
    """Synthetic answers in the database, with the facts to recompute every figure from."""
    return research_data.seed_answers()


@pytest.fixture
def researcher(db: None):  # type: ignore[no-untyped-def]
    return research_data.make_user("rita", researcher=True, password="a long pass phrase 81")


@pytest.fixture
def api(researcher) -> APIClient:  # type: ignore[no-untyped-def]
    """An API client authenticated with the researcher's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {research_data.token_for(researcher)}")
    return client


# --- the cache that rate limits and the login lockout count in -----------------------------------

COUNTING_REDIS_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/6")
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture(params=["locmem", "redis"])
def counting_cache(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The cache the counters live in, empty for this test (its own key prefix): local memory,
    then a real Redis through Django's RedisCache, as production uses with CACHE_URL."""
    prefix = f"test-{uuid.uuid4().hex}"
    if request.param == "locmem":
        settings.CACHES = {"default": {"BACKEND": LOCMEM, "LOCATION": prefix}}
        yield request.param
        return
    server = redis.Redis.from_url(COUNTING_REDIS_URL, socket_connect_timeout=1)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at {COUNTING_REDIS_URL}: {error}")
    settings.CACHES = {"default": {**cache_from_url(COUNTING_REDIS_URL), "KEY_PREFIX": prefix}}
    yield request.param
    for key in server.scan_iter(f"{prefix}:*"):  # only this test's counters
        server.delete(key)


def settings_in_a_fresh_process(names: list[str], **env: str) -> list[str]:
    """The settings ``names`` (expressions after ``settings.``) as a new process reads them from
    the environment, with ``env`` added and this suite's own limit settings (RATE_LIMIT_*,
    LOGIN_*, CACHE_URL) not inherited; fails with the process's last error line."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RATE_LIMIT_", "LOGIN_")) and key != "CACHE_URL"
    }
    code = "import django; django.setup(); from django.conf import settings as s; " + "; ".join(
        f"print(s.{name})" for name in names
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(settings.BASE_DIR),
        env={**inherited, "DJANGO_SETTINGS_MODULE": "bachsurvey.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]
    return result.stdout.split()
