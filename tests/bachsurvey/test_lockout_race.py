"""Parallel wrong logins for one user name from one address get no more password checks than
the lockout's limit (issue 19: 20 at once got 17 checks against a limit of 10), against a live
server on real PostgreSQL, each request in its own thread and database connection."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hashers

from tests.bachsurvey.conftest import needs_postgresql

pytestmark = needs_postgresql("the lockout's lock is PostgreSQL's, across connections")

PARALLEL = 20
LIMIT = 10


def wrong_login(base: str, start: threading.Barrier) -> int:
    """A browser that loads the login page, then, with the others, posts a wrong password."""
    with requests.Session() as browser:
        page = browser.get(f"{base}/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        start.wait(timeout=30)
        form = {"username": "rita", "password": "wrong", "csrfmiddlewaretoken": token}
        return browser.post(f"{base}/accounts/login/", data=form, timeout=60).status_code


def test_parallel_wrong_logins_get_at_most_the_limit_of_password_checks(
    live_server: Any, settings: Any
) -> None:
    settings.LOGIN_FAILURE_LIMIT = LIMIT
    settings.PASSWORD_HASHERS = ["tests.bachsurvey.counting_hasher.CountingHasher"]
    get_user_model().objects.create_user("rita", password="a long pass phrase 81")
    hasher = get_hashers()[0]
    hasher.checks = 0
    start = threading.Barrier(PARALLEL)
    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(lambda _: wrong_login(live_server.url, start), range(PARALLEL)))
    assert hasher.checks == LIMIT, f"{hasher.checks} password checks against a limit of {LIMIT}"
    assert sorted(statuses) == [200] * LIMIT + [429] * (PARALLEL - LIMIT)
