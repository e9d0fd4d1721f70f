"""The participant API fuzzed from its own OpenAPI schema (/api/schema/) with schemathesis: no
5xx, and every response conforms to the schema (status code, content type, headers, body);
requests that break the schema are refused with a 4xx.

The requests go through Django's WSGI application in this process, with a real browser session
(a participant bound to it) and its CSRF token, so they reach the serializers and services
rather than stopping at the CSRF check. Half of them name that participant and one of its
questions, so that answers are stored, refused as repeated or out of order, and so on.

Bounded and repeatable: a fixed number of examples per operation, derandomized (a fixed seed),
no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.bachsurvey.conftest import BACKGROUND

pytestmark = pytest.mark.django_db

EXAMPLES = 40  # per operation, positive and negative together
OPERATIONS = [
    ("/api/participants/", "POST"),
    ("/api/participants/{participant_id}/answers/", "POST"),
    ("/api/participants/{participant_id}/", "GET"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@contextmanager
def connection_kept() -> Iterator[None]:
    """Django's WSGI handler closes the database connection around each request, which would
    end the test's transaction (and lose its data); Django's own test client disconnects the
    same handler while it runs a request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema() -> Any:
    with connection_kept():
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def browser_session(quiz: list) -> tuple[requests.Session, dict]:
    """A participant started through the page as a browser would, and that browser's session
    (cookies and CSRF header) for the fuzzed requests."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/").content.decode()
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    started = browser.post(
        "/api/participants/", BACKGROUND, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert started.status_code == 201, started.content
    session = requests.Session()
    session.cookies.update({name: morsel.value for name, morsel in browser.cookies.items()})
    session.headers["X-CSRFToken"] = token
    return session, started.json()


@pytest.mark.parametrize("path, method", OPERATIONS)
def test_the_participant_api_survives_fuzzing(
    api_schema: Any, quiz: list, path: str, method: str
) -> None:
    session, participant = browser_session(quiz)
    questions = [q["id"] for q in participant["questions"]]
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, unshrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases, own=st.booleans(), question=st.sampled_from(questions))
    def fuzz(case: Any, own: bool, question: str) -> None:
        if own and "participant_id" in (case.path_parameters or {}):
            case.path_parameters["participant_id"] = participant["id"]
            if isinstance(case.body, dict) and "question" in case.body:
                # A new dict, not an item set in place: schemathesis then re-checks whether the
                # case still breaks the schema (a negative case may have broken "question" alone).
                case.body = {**case.body, "question": question}
        response = case.call(session=session)
        case.validate_response(response, checks=CHECKS)

    with connection_kept():
        fuzz()
