"""The same answer sent twice at the same instant (two tabs, a double tap): exactly one is stored,
one request gets 201 and the other 409, never a 500.

Two paths lead there. Usually the participant's row lock (services.submit_answer) makes the
second request wait and then find the answer stored. If a competing insert slips past the lock
(here: another database connection inserting the answer directly), the unique constraint on
Answer.assignment refuses the second, and that IntegrityError must be a 409 too.

These tests commit for real (transaction=True), so that requests in different threads, each on
its own database connection, see one another's work.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from bachsurvey.models import Answer, Assignment
from tests.bachsurvey.conftest import QuizClient, needs_postgresql

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # SQLite has no row locks: concurrent writers fail with "database table is locked".
    needs_postgresql("concurrent requests on their own connections"),
]

TIMEOUT_S = 30


def answer_body(question: str, choice: str = "A") -> dict:
    return {
        "question": question,
        "choice": choice,
        "response_ms": 4200,
        "plays": {"A": 1, "B": 1},
        "heard_fully": {"A": True, "B": True},
    }


def in_thread(
    call: Callable[[], Any], barrier: threading.Barrier | None = None
) -> Callable[[], Any]:
    """Start ``call`` in a thread of its own (after ``barrier``, if given); returns a function
    that waits for it and gives its result (or the exception it raised).

    Each thread has its own Django database connection, closed when it ends."""
    result: list[Any] = []

    def run() -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=TIMEOUT_S)
            result.append(call())
        except BaseException as error:  # reported by the test, not lost in the thread
            result.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()

    def outcome() -> Any:
        thread.join(TIMEOUT_S)
        assert not thread.is_alive(), "a request never finished"
        return result[0]

    return outcome


def send(client: Client, url: str, body: dict) -> Any:
    return client.post(url, body, content_type="application/json")


def tab(client: Client) -> Client:
    """Another tab of the same browser: a client with the same session cookie."""
    other = Client()
    other.cookies = client.cookies
    return other


def test_two_tabs_sending_one_answer_at_once_store_it_once(quiz: list, client: Client) -> None:
    me = QuizClient(client).started()
    tabs = [tab(client), tab(client)]
    url = f"/api/participants/{me['id']}/answers/"
    for n, question in enumerate(me["questions"], start=1):
        body = answer_body(question["id"])
        together = threading.Barrier(len(tabs))  # both requests leave at the same instant
        outcomes = [in_thread(lambda t=t, b=body: send(t, url, b), together) for t in tabs]
        responses = [outcome() for outcome in outcomes]
        statuses = sorted(getattr(r, "status_code", r) for r in responses)
        assert statuses == [201, 409], responses
        conflict = next(r for r in responses if r.status_code == 409)
        assert conflict.json()["code"] == "already_answered"
        assert Answer.objects.count() == n
    assert Answer.objects.filter(assignment__participant_id=me["id"]).count() == 5


def raw_connection() -> psycopg.Connection:
    """A second connection to the test database, outside Django."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params)


def waiting_for_a_lock() -> int:
    with raw_connection() as probe:
        row = probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"bachsurvey_answer\"%%'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_duplicate_that_slips_past_the_lock_is_a_409_not_a_500(
    quiz: list, client: Client
) -> None:
    me = QuizClient(client).started()
    question = me["questions"][0]["id"]
    assignment = Assignment.objects.get(participant_id=me["id"], question_id=question)
    with raw_connection() as other:
        # Another connection stores the answer and holds its transaction open: the request
        # takes the participant's lock, finds no committed answer, and its insert then waits on
        # the unique index until this transaction ends.
        other.execute(
            "INSERT INTO bachsurvey_answer "
            "(assignment_id, choice, correct, response_ms, plays, heard_fully, created_at) "
            "VALUES (%s, 'B', false, 1, %s, %s, now())",
            (assignment.pk, json.dumps({"A": 1, "B": 1}), json.dumps({"A": True, "B": True})),
        )
        url = f"/api/participants/{me['id']}/answers/"
        body = answer_body(question)
        outcome = in_thread(lambda: send(client, url, body))
        deadline = time.monotonic() + TIMEOUT_S
        while waiting_for_a_lock() == 0:  # the request's insert is blocked: now let it fail
            assert time.monotonic() < deadline, "the request never reached the insert"
            time.sleep(0.05)
        other.commit()
    response = outcome()
    assert getattr(response, "status_code", response) == 409, response
    assert response.json()["code"] == "already_answered"
    assert list(Answer.objects.values_list("choice", flat=True)) == ["B"]  # the first one stands
