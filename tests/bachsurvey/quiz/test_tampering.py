"""A participant (or a script) tampering with the quiz's requests: another participant's id, a
question from someone else's quiz, absurd response times, oversized or hostile bodies, writes
without the CSRF token. Each gets a 4xx with a message saying what is wrong, and changes nothing.

Refusals that test_api_answers.py and test_api_participants.py already cover are not repeated
here: a question id that is not a UUID or is assigned to nobody, a choice other than A or B,
negative times and malformed plays, answering out of order or after withdrawal, and a quiz
started without the CSRF token.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from bachsurvey.models import Answer, Assignment, Participant
from tests.bachsurvey.conftest import BACKGROUND, QuizClient

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    """What a refusal must leave as it was."""
    withdrawn = Participant.objects.filter(withdrawn_at__isnull=False).count()
    return (
        Participant.objects.count(),
        Assignment.objects.count(),
        Answer.objects.count(),
        withdrawn,
    )


@contextmanager
def changes_nothing() -> Iterator[None]:
    before = counts()
    yield
    assert counts() == before, "a refused request changed the database"


def start(client: Client) -> dict:
    response = QuizClient(client).start()
    assert response.status_code == 201, response.content
    return response.json()


# --- someone else's participant or question -------------------------------------------------------


def test_another_participants_id_is_unknown(quiz: list, new_quiz_client: Any) -> None:
    mine, theirs = new_quiz_client(), new_quiz_client()
    mine.started()
    them = theirs.started()
    with changes_nothing():
        for response in (
            mine.answer(them["id"], them["questions"][0]["id"]),
            mine.progress(them["id"]),
            mine.withdraw(them["id"]),
        ):
            assert response.status_code == 404
            assert response.json()["detail"] == "No such participant in this browser."


def test_an_unknown_participant_is_not_found(quiz: list, quiz_client: Any) -> None:
    me = quiz_client.started()
    with changes_nothing():
        response = quiz_client.answer(str(uuid.uuid4()), me["questions"][0]["id"])
        assert response.status_code == 404
        for path in ("/api/participants/1/answers/", "/api/participants/..%2F/answers/"):
            response = quiz_client.client.post(path, {}, content_type="application/json")
            assert response.status_code == 404


def test_a_question_from_another_participants_quiz_is_refused(
    quiz: list, new_quiz_client: Any
) -> None:
    mine, theirs = new_quiz_client(), new_quiz_client()
    me, them = mine.started(), theirs.started()
    only_theirs = {q["id"] for q in them["questions"]} - {q["id"] for q in me["questions"]}
    with changes_nothing():
        response = mine.answer(me["id"], sorted(only_theirs)[0])
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This question is not part of your quiz.",
        "code": "not_assigned",
    }


# --- absurd response times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("response_ms", 60 * 60 * 1000 + 1, "less than or equal to 3600000"),
        ("response_ms", 10**12, "less than or equal to 3600000"),
        ("response_ms", 10**40, "less than or equal to 3600000"),
        ("response_ms", 4.5, "A valid integer is required"),
        ("response_ms", True, "A valid integer is required"),
        ("response_ms", None, "may not be null"),
        ("elapsed_ms", 10**12, "less than or equal to 3600000"),
        ("elapsed_ms", -(10**12), "greater than or equal to 0"),
    ],
)
def test_an_absurd_response_time_is_refused(
    quiz: list, quiz_client: Any, field: str, value: object, message: str
) -> None:
    me = quiz_client.started()
    with changes_nothing():
        response = quiz_client.answer(me["id"], me["questions"][0]["id"], **{field: value})
    assert response.status_code == 400
    assert message in response.json()[field][0]


@pytest.mark.parametrize("number", ["1e400", "NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused(quiz: list, client: Client, number: str) -> None:
    me = start(client)
    body = (
        f'{{"question": "{me["questions"][0]["id"]}", "choice": "A", "response_ms": {number}, '
        '"plays": {"A": 1, "B": 1}, "heard_fully": {"A": true, "B": true}}'
    )
    with changes_nothing():
        response = post_raw(client, f"/api/participants/{me['id']}/answers/", body.encode())
    assert response.status_code == 400
    data = response.json()  # 1e400 parses (as infinity) and fails the field; NaN is not JSON
    assert "response_ms" in data or "JSON parse error" in data["detail"]


# --- hostile bodies -------------------------------------------------------------------------------


def post_raw(client: Client, path: str, body: bytes, **extra: Any) -> Any:
    return client.generic("POST", path, body, content_type="application/json", **extra)


def padded(size: int) -> bytes:
    """A valid start of the quiz, padded with an unknown field to ``size`` bytes."""
    body = json.dumps({**BACKGROUND, "padding": ""})
    return json.dumps({**BACKGROUND, "padding": "x" * (size - len(body))}).encode()


def test_a_body_over_the_limit_is_refused_with_413(quiz: list, client: Client) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 64 * 1024
    assert post_raw(client, "/api/participants/", padded(limit)).status_code == 201
    with changes_nothing():
        response = post_raw(client, "/api/participants/", padded(limit + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body over {limit} bytes.", "code": "too_large"}


def test_an_answer_body_over_the_limit_is_refused(quiz: list, client: Client) -> None:
    me = start(client)
    body = padded(settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 4)
    with changes_nothing():
        response = post_raw(client, f"/api/participants/{me['id']}/answers/", body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_body_claiming_a_huge_length_is_refused_unread(quiz: list, client: Client) -> None:
    body = json.dumps(BACKGROUND).encode()
    with changes_nothing():
        response = post_raw(client, "/api/participants/", body, CONTENT_LENGTH=str(10**12))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body, message",
    [
        (b"[" * 60_000, "JSON parse error"),  # nested past Python's recursion limit
        (b'{"consent": true, "age_group": "\xff\xfe"}', "JSON parse error"),  # not UTF-8
        (b'{"consent": true,', "JSON parse error"),
        (b"[]", "Expected a dictionary"),
        (b'"consent"', "Expected a dictionary"),
        (b"null", "No data provided"),
    ],
)
def test_a_malformed_body_is_a_clear_400(
    quiz: list, client: Client, body: bytes, message: str
) -> None:
    with changes_nothing():
        response = post_raw(client, "/api/participants/", body)
    assert response.status_code == 400
    assert message in json.dumps(response.json())


def test_a_page_form_over_the_limit_is_a_400_not_a_500(db: None, client: Client) -> None:
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post("/accounts/login/", {"username": "rita", "password": big})
    assert response.status_code == 400


# --- writes without the CSRF token ----------------------------------------------------------------


@pytest.fixture
def csrf_browser(quiz: list) -> tuple[Client, str]:
    """A browser that is checked for CSRF as a real one is, and the page's token."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/").content.decode()
    return browser, page.split('name="csrf-token" content="')[1].split('"')[0]


@pytest.mark.parametrize("token", [None, "forged" + "x" * 58])
def test_answers_and_withdrawal_need_the_csrf_token(
    csrf_browser: tuple[Client, str], token: str | None
) -> None:
    browser, good = csrf_browser
    me = post_raw(
        browser, "/api/participants/", json.dumps(BACKGROUND).encode(), HTTP_X_CSRFTOKEN=good
    ).json()
    answer = {
        "question": me["questions"][0]["id"],
        "choice": "A",
        "response_ms": 4000,
        "plays": {"A": 1, "B": 1},
        "heard_fully": {"A": True, "B": True},
    }
    writes = {
        f"/api/participants/{me['id']}/answers/": answer,
        f"/api/participants/{me['id']}/withdraw/": {},
    }
    headers = {} if token is None else {"HTTP_X_CSRFTOKEN": token}
    with changes_nothing():
        for path, payload in writes.items():
            refused = post_raw(browser, path, json.dumps(payload).encode(), **headers)
            assert refused.status_code == 403
            assert refused.json()["detail"].startswith("CSRF Failed")
    # The same answer with the page's token is taken: only the token was missing.
    path = f"/api/participants/{me['id']}/answers/"
    taken = post_raw(browser, path, json.dumps(answer).encode(), HTTP_X_CSRFTOKEN=good)
    assert taken.status_code == 201


@pytest.mark.parametrize("page", ["/accounts/login/", "/admin/login/"])
def test_the_login_forms_need_the_csrf_token(db: None, page: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(page, {"username": "rita", "password": "a long pass phrase 81"})
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
