"""bachsurvey.postgresql: a reused connection is checked by polling its socket, not by a query.

Against the real PostgreSQL. A connection the server has closed (here: its backend terminated,
as a restart does to every backend) must be found unusable before a request uses it; a healthy
idle one must pass without a statement being sent (the point: one round trip fewer a request).
The end-to-end case, a restart between two requests to real gunicorn, is in test_db_outage.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from tests.bachsurvey.conftest import needs_postgresql

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_postgresql("the backend under test is bachsurvey.postgresql"),
]


@pytest.fixture
def other() -> Iterator[BaseDatabaseWrapper]:
    """A second connection to the test database, as a web process holds one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def last_statement_of(wrapper: BaseDatabaseWrapper) -> str:
    """What PostgreSQL says the connection's backend ran last (asked over another connection)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s",
            [wrapper.connection.info.backend_pid],
        )
        return cursor.fetchone()[0]


def test_the_backend_is_ours() -> None:
    assert type(connections["default"]).__module__ == "bachsurvey.postgresql.base"


def test_a_healthy_idle_connection_passes_without_a_statement(
    other: BaseDatabaseWrapper,
) -> None:
    marker = f"SELECT 'idle {secrets.token_hex(4)}'"
    with other.cursor() as cursor:
        cursor.execute(marker)
    assert other.is_usable()
    assert last_statement_of(other) == marker  # no SELECT 1 was sent


def test_a_connection_the_server_closed_is_unusable(other: BaseDatabaseWrapper) -> None:
    pid = other.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while other.is_usable():  # the goodbye arrives on the socket within moments
        assert time.monotonic() < deadline, "a terminated backend still looked usable after 5 s"
        time.sleep(0.05)


def test_a_closed_connection_is_unusable(other: BaseDatabaseWrapper) -> None:
    other.connection.close()
    assert not other.is_usable()
