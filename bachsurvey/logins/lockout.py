"""What the login paths share: the limits as axes reads them, the lockout's remaining time, its
message, and the lock that lets one login per (user name, address) check and count at a time."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.utils import timezone

# The "user name" that wrong API tokens count under: a wrong token names no user, so its
# failures are the address's, and Django's user names cannot hold spaces or brackets.
TOKEN_USER = "(API token)"

# Other databases than PostgreSQL (SQLite, a checkout's default) serve one development process.
_process_lock = threading.Lock()


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    """AXES_FAILURE_LIMIT, read at each login so that a test or a deployment can change it
    (0 switches the lockout off: no count reaches the largest integer)."""
    return settings.LOGIN_FAILURE_LIMIT or 2**63


def cool_off(request: HttpRequest | None) -> timedelta:
    """AXES_COOLOFF_TIME: how long a failure counts after the last one."""
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def locked_for(request: HttpRequest, username: str) -> int | None:
    """Seconds until ``username`` may log in again from the request's address, or None."""
    if not settings.AXES_ENABLED:
        return None
    AxesProxyHandler.update_request(request)  # the address, the time: as axes counts them
    credentials = get_credentials(username)
    handler = AxesProxyHandler.get_implementation()
    if handler.is_whitelisted(request, credentials):
        return None
    until = handler.locked_until(request, credentials)  # type: ignore[attr-defined]
    if until is None:
        return None
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def refusal(seconds: int, subject: str = "Too many failed logins for this user name") -> str:
    minutes = math.ceil(seconds / 60)
    return f"{subject}. Please try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _lock_key(username: str, address: str | None) -> int:
    digest = hashlib.sha256(f"{username}\n{address}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)  # PostgreSQL's bigint


@contextmanager
def one_at_a_time(request: HttpRequest, username: str) -> Iterator[None]:
    """Hold a lock on (``username``, the request's address) while the lockout is checked, the
    password or token checked and the failure counted, so that parallel wrong logins are
    counted one after the other and none is checked once the limit is reached.

    On PostgreSQL a session-level advisory lock, shared by every web process and thread and
    released by the server if the connection dies; not a transaction, so axes' own writes
    commit as they always do, before the next login for the pair reads the count.
    """
    AxesProxyHandler.update_request(request)
    if connection.vendor != "postgresql":
        with _process_lock:
            yield
        return
    key = _lock_key(username, request.axes_ip_address)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except DatabaseError:
            connection.close()  # a lock not released must not outlive the connection
