"""A PostgreSQL outage: requests fail cleanly (503, Retry-After, nothing stored), the next request
after it succeeds, and a 201 always means a stored answer.

How the outage is made, and why: the real site (gunicorn with deploy/gunicorn.conf.py, DEBUG off,
one sync worker holding one persistent connection) talks to the test database through a TCP
relay in this process, and the relay fails the way a restarting PostgreSQL does for its clients:
every open connection is cut, and new ones are refused until it listens again. Stopping the
machine's PostgreSQL itself would be the most literal test, but it would also cut every other
client of that server (pytest-django's own connection, other test runs, the developer's
database), and a test that fails half-way could leave it stopped; the relay gives the gunicorn
process exactly what it would see, and nothing else notices. What the relay cannot show (the
server's own shutdown message, or recovery time) benchmarks/load/pg_restart.py shows by really
restarting a PostgreSQL cluster under load.

The unit tests below (no gunicorn) cover what the relay cannot reach on purpose: a database
error raised outside a view (a session save) and an error that is not the database's.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection
from django.test import Client

from bachsurvey.db_outage import CODE, RETRY_AFTER_SECONDS
from bachsurvey.models import Answer, Question
from bachsurvey.quiz import services
from tests.bachsurvey.live_site import BACKGROUND, Browser, free_port, gunicorn, site_env


class PostgresRelay:
    """A TCP relay to PostgreSQL that can go down like PostgreSQL: ``down()`` cuts every open
    connection and refuses new ones, ``up()`` listens again on the same port. ``up(silent=True)``
    accepts connections but never answers: a database host that has vanished from the network."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.accepted = 0  # connections relayed so far
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._silent = False

    def up(self, silent: bool = False) -> None:
        self._silent = silent
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)  # so that down() is noticed promptly
        self._listening.set()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        self._listening.clear()
        if self._thread is not None:
            self._thread.join()  # the listener is closed: new connections are refused
        with self._lock:
            cut, self._open = self._open, set()
        for sock in cut:
            self._close(sock)

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._listening.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                if self._silent:  # hold the connection open, say nothing
                    with self._lock:
                        self._open.add(client)
                    continue
                try:
                    upstream = socket.create_connection(self.target)
                except OSError:
                    client.close()
                    continue
                with self._lock:
                    self._open |= {client, upstream}
                    self.accepted += 1
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            self._close(sock)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


@pytest.fixture
def relay() -> Iterator[PostgresRelay]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    db = connection.settings_dict
    relay = PostgresRelay((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    relay.up()
    yield relay
    relay.down()


@pytest.fixture
def site(
    live_quiz: list[Question], relay: PostgresRelay, media_root: Path, tmp_path: Path
) -> Iterator[str]:
    """gunicorn serving the site on the test database through the relay; its base URL."""
    env = site_env(
        free_port(),
        media_root,
        db_port=relay.port,
        DATABASE_CONN_MAX_AGE="60",  # one connection kept across requests, as in production
        WEB_CONCURRENCY="1",  # one worker, one connection: the test knows which one is cut
        GUNICORN_THREADS="1",
    )
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        yield base


def stored(participant: str) -> list[str]:
    """The questions of this participant's stored answers, read directly (not via the relay)."""
    answers = Answer.objects.filter(assignment__participant_id=participant)
    return sorted(str(q) for q in answers.values_list("assignment__question_id", flat=True))


def test_an_outage_answers_503_with_retry_after_stores_nothing_and_passes(
    site: str, relay: PostgresRelay
) -> None:
    browser = Browser(site)
    created = browser.start()
    participant = created["id"]
    first, second = (q["id"] for q in created["questions"][:2])
    assert browser.answer(participant, first)[0] == 201

    relay.down()
    status, headers, body = browser.answer(participant, second)
    assert status == 503, body
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert body["code"] == CODE and "try again" in body["detail"]
    # A newcomer still gets the landing page (no session to read yet), but cannot start; a
    # returning browser's page reads its session, and fails the same way.
    newcomer = Browser(site)
    assert newcomer.request("GET", "/")[0] == 200
    status, headers, body = newcomer.request("POST", "/api/participants/", BACKGROUND)
    assert (status, body["code"], headers["Retry-After"]) == (503, CODE, "5")
    status, headers, page = browser.request("GET", "/")
    assert status == 503 and headers["Content-Type"].startswith("text/html")
    assert "Back in a moment" in page and headers["Retry-After"] == "5"
    # The liveness check does not touch the database: the process stays in the load balancer.
    assert browser.request("GET", "/healthz")[0] == 200
    assert stored(participant) == [first]  # the refused answer left nothing behind

    relay.up()
    status, _, body = browser.answer(participant, second)  # the client's retry
    assert status == 201, body
    assert body["answered"] == 2
    assert stored(participant) == sorted([first, second])


def test_a_restart_between_requests_costs_no_request(site: str, relay: PostgresRelay) -> None:
    """CONN_HEALTH_CHECKS: the worker's kept connection died with the restart; the next request
    checks it, opens a new one and succeeds, instead of failing on the dead one."""
    browser = Browser(site)
    created = browser.start()
    participant = created["id"]
    assert browser.request("GET", f"/api/participants/{participant}/")[0] == 200
    assert relay.accepted == 1  # one connection, reused across requests (CONN_MAX_AGE)

    relay.down()  # PostgreSQL restarts while the worker is idle
    relay.up()

    status, _, body = browser.answer(participant, created["questions"][0]["id"])
    assert status == 201, body
    assert relay.accepted == 2  # the dead connection was replaced
    assert stored(participant) == [created["questions"][0]["id"]]


@pytest.mark.slow
def test_a_database_that_does_not_answer_costs_a_bounded_wait(
    site: str, relay: PostgresRelay
) -> None:
    """A database host gone silent (no refusal, no reply): the new connection gives up after
    the default connect_timeout (5 s) and the request gets its 503, well before gunicorn's
    30 s timeout would kill the worker and drop the client's connection."""
    browser = Browser(site)
    created = browser.start()
    relay.down()
    relay.up(silent=True)
    began = time.monotonic()
    status, headers, body = browser.answer(created["id"], created["questions"][0]["id"])
    waited = time.monotonic() - began
    assert status == 503 and body["code"] == CODE, body
    assert 4 < waited < 15, waited
    assert stored(created["id"]) == []


# --- without gunicorn: the two hooks, and what must stay a 500 -----------------------------------


@pytest.fixture
def started(quiz: list[Question], quiz_client: Any) -> dict:
    return quiz_client.started()


def fail_with(error: Exception) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def test_a_database_error_in_a_view_is_a_503(
    started: dict, quiz_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "submit_answer", fail_with(OperationalError("gone")))
    response = quiz_client.answer(started["id"], started["questions"][0]["id"])
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["code"] == CODE


def test_a_database_error_after_the_view_is_a_503_too(
    quiz: list[Question], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving a new session happens in SessionMiddleware, after the view: handler500's case."""
    monkeypatch.setattr(SessionStore, "save", fail_with(OperationalError("gone")))
    client = Client(raise_request_exception=False)
    response = client.post("/api/participants/", BACKGROUND, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["code"] == CODE


def test_any_other_error_is_still_a_500(
    started: dict, quiz_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "submit_answer", fail_with(RuntimeError("a bug")))
    quiz_client.client.raise_request_exception = False
    response = quiz_client.answer(started["id"], started["questions"][0]["id"])
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_the_answer_reply_reads_nothing_after_the_commit(
    live_quiz: list[Question], quiz_client: Any
) -> None:
    """A 201 means stored: every query from the answer's INSERT on runs inside the transaction,
    so nothing after the commit can fail and turn a stored answer into an error reply."""
    created = quiz_client.started()
    queries: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append((sql, context["connection"].in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = quiz_client.answer(created["id"], created["questions"][0]["id"])
    assert response.status_code == 201
    insert = next(
        i for i, (sql, _) in enumerate(queries) if 'INSERT INTO "bachsurvey_answer"' in sql
    )
    assert all(in_transaction for _, in_transaction in queries[insert:]), queries[insert:]
