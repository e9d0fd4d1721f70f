"""Settings for the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from bachsurvey import celery_app

# The suite's own cache, whatever CACHE_URL says: one process's memory, emptied after each test.
SUITE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}
}


@pytest.fixture(scope="session", autouse=True)
def suite_settings() -> Iterator[None]:
    """The suite starts many quizzes from 127.0.0.1 and answers faster than a person: rate
    limits would refuse them. The rate-limit tests set their own limits (pytest-django's
    settings fixture overrides these)."""
    with override_settings(
        RATE_LIMIT_PARTICIPANTS=0,
        RATE_LIMIT_ANSWERS=0,
        RATE_LIMIT_HARMONIZATIONS=0,
        CACHES=SUITE_CACHE,
    ):
        yield


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """No test inherits another's counters (failed logins, rate limits)."""
    yield
    cache.clear()


@pytest.fixture
def in_process_tasks(settings: Any) -> Iterator[None]:
    """Tasks run inside the call that queues them, as on a site without CELERY_BROKER_URL,
    whatever the environment says (.ci/run sets a broker) and whether or not the session's
    worker (celery_worker) has switched this process to its broker."""
    previous = {key: celery_app.conf[key] for key in ("task_always_eager", "task_eager_propagates")}
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.update(previous)
