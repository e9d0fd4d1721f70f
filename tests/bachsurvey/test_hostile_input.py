"""Malformed Unicode, absurd numbers and absurd headers get a 4xx naming the problem, never 500.

Bodies: a lone surrogate, a NUL, a number out of range or of thousands of digits in any field of
any POST a participant makes is a 400 whose detail names the field (bachsurvey.quiz.parsers).
Headers: each header the site reads, with such values, on each kind of page, is never a 500;
an absurd Range is ignored (the whole file, 200), as any Range that is not one plain byte range.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bachsurvey.client import client_address
from bachsurvey.quiz import clip_fast
from tests.bachsurvey.conftest import BACKGROUND

pytestmark = pytest.mark.django_db

ANSWER = {
    "question": None,  # the participant's first question
    "choice": "A",
    "response_ms": 4200,
    "elapsed_ms": 5000,
    "plays": {"A": 1, "B": 2},
    "heard_fully": {"A": True, "B": True},
}
# Each field of each body: its path, as the detail names it.
PARTICIPANT_FIELDS = ["consent", "age_group", "experience"]
ANSWER_FIELDS = [
    "question", "choice", "response_ms", "elapsed_ms",
    "plays.A", "plays.B", "heard_fully.A", "heard_fully.B",
]  # fmt: skip
# Raw JSON values, and a word the detail must hold.
HOSTILE = {
    '"\\ud800"': "surrogate",
    '"A\\udfff"': "surrogate",
    '"\\u0000"': "NUL",
    '"26-45\\u0000"': "NUL",
    "1e999": "out of range",
    "-1E+400": "out of range",
    "9" * 10_000: "characters",
    "-" + "1" * 5000 + ".5": "characters",
    "NaN": "not a JSON number",
    "Infinity": "not a JSON number",
}
MARK = "@@hostile@@"


def body_with(template: dict, path: str, raw: str) -> str:
    body = copy.deepcopy(template)
    *parents, last = path.split(".")
    inner = body
    for name in parents:
        inner = inner[name]
    inner[last] = MARK
    return json.dumps(body).replace(json.dumps(MARK), raw)


@pytest.fixture
def started(quiz: list) -> tuple[Client, str, dict]:
    """A browser with a participant, and the body of a valid answer to its first question."""
    client = Client()
    reply = client.post("/api/participants/", BACKGROUND, content_type="application/json")
    data = reply.json()
    return client, data["id"], {**ANSWER, "question": data["questions"][0]["id"]}


def assert_named(reply: Any, path: str, word: str) -> None:
    assert reply.status_code == 400, (path, reply.content[:300])
    detail = reply.json()["detail"]
    assert f"{path}:" in detail and word in detail, detail


@pytest.mark.parametrize("raw, word", HOSTILE.items())
def test_every_field_of_every_post_refuses_hostile_values(
    started: tuple[Client, str, dict], raw: str, word: str
) -> None:
    client, participant, answer = started
    for path in PARTICIPANT_FIELDS:
        body = body_with(BACKGROUND, path, raw)
        reply = client.post("/api/participants/", body, content_type="application/json")
        assert_named(reply, path, word)
    for path in ANSWER_FIELDS:
        body = body_with(answer, path, raw)
        url = f"/api/participants/{participant}/answers/"
        assert_named(client.post(url, body, content_type="application/json"), path, word)
    # Withdrawing reads no body: whatever it holds, never a 500.
    body = body_with(BACKGROUND, "age_group", raw)
    url = f"/api/participants/{participant}/withdraw/"
    assert client.post(url, body, content_type="application/json").status_code < 500


def test_a_hostile_field_name_is_refused(started: tuple[Client, str, dict]) -> None:
    client, _, _ = started
    body = '{"consent": true, "age_group": "26-45", "experience": "novice", "\\ud83d": 1}'
    reply = client.post("/api/participants/", body, content_type="application/json")
    assert reply.status_code == 400 and "surrogate" in reply.json()["detail"]


# Any short text holding a NUL or a lone surrogate.
UNSTORABLE_TEXT = st.tuples(st.text(max_size=8), st.sampled_from("\x00\ud800\udbff\udc00\udfff"))
UNSTORABLE_TEXT = UNSTORABLE_TEXT.map("".join)


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(ANSWER_FIELDS),
    text=UNSTORABLE_TEXT,
    number=st.one_of(
        st.integers(min_value=10**101, max_value=10**400),
        st.sampled_from(["1e309", "-1e999", "2E+99999"]),
    ),
)
def test_answers_fuzzed(
    started: tuple[Client, str, dict], field: str, text: str, number: int | str
) -> None:
    client, participant, answer = started
    url = f"/api/participants/{participant}/answers/"
    for raw, word in ((json.dumps(text), "the text"), (str(number), "number")):
        body = body_with(answer, field, raw)
        assert_named(client.post(url, body, content_type="application/json"), field, word)


# --- headers -------------------------------------------------------------------------------------

# Every header the site reads (Django's CSRF check, the session, content negotiation, the client
# address behind a proxy, the clips' Range, API tokens), as the WSGI environ names it.
HEADERS = [
    "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_REFERER", "HTTP_ORIGIN",
    "HTTP_X_CSRFTOKEN", "HTTP_COOKIE", "HTTP_RANGE", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE",
    "HTTP_AUTHORIZATION", "HTTP_HOST", "HTTP_USER_AGENT", "CONTENT_TYPE",
]  # fmt: skip
VALUES = [
    "\ud800",
    "a\x00b",
    "9" * 10_000,
    "x" * 10_000,
    "bytes=" + "1" * 5000 + "-",
    "bytes=0-" + "9" * 5000,
    "bytes=-" + "9" * 5000,
    "\xff\xfe\x80 latin-1",
    "Token \udfff",
]


@pytest.fixture
def pages(started: tuple[Client, str, dict], settings: Any) -> list[tuple[str, str, str | None]]:
    """(method, URL, JSON body) of each kind of request: pages, the API, clips, logins."""
    # The test client's own address is a trusted proxy: X-Forwarded-For is read.
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1"),)
    client, participant, answer = started
    audio = client.get(f"/api/participants/{participant}/").json()["questions"][0]["clips"]
    return [
        ("get", "/", None),
        ("get", "/healthz", None),
        ("get", f"/api/participants/{participant}/", None),
        ("post", "/api/participants/", json.dumps(BACKGROUND)),
        ("post", f"/api/participants/{participant}/answers/", json.dumps(answer)),
        ("get", audio[0]["audio_url"], None),
        ("get", "/media/clips/x.mp3", None),
        ("get", "/api/results/summary/", None),
        ("get", "/api/schema/", None),
        ("post", "/accounts/login/", json.dumps({"username": "u", "password": "p"})),
        ("post", "/admin/login/", json.dumps({"username": "u", "password": "p"})),
    ]


@pytest.mark.parametrize("header", HEADERS)
def test_no_header_value_makes_a_500(
    started: tuple[Client, str, dict], pages: list, header: str
) -> None:
    client, _, _ = started
    strict = Client(enforce_csrf_checks=True)  # Referer, Origin and the CSRF token are read
    for method, url, body in pages:
        for value in VALUES:
            for browser in (client, strict):
                extra: dict[str, Any] = {header: value}
                if body is not None:
                    extra.setdefault("content_type", "application/json")
                    if header == "CONTENT_TYPE":
                        extra["content_type"] = value
                        del extra[header]
                reply = getattr(browser, method)(url, body, secure=True, **extra)
                assert reply.status_code < 500, (method, url, header, value[:20])


# --- Range ---------------------------------------------------------------------------------------

ABSURD_RANGES = [
    "bytes=" + "1" * 5000 + "-",
    "bytes=0-" + "1" * 5000,
    "bytes=-" + "1" * 5000,
    "bytes=" + "9" * 5000 + "-" + "9" * 5000,
    "bytes=0-0,1-1,2-2",
    "bytes=\x00-1",
    "bytes=\ud800-",
    "lines=0-1",
    "bytes=1-0",
]


@pytest.mark.parametrize("value", ABSURD_RANGES)
def test_an_absurd_range_is_ignored_on_media_and_clips(
    started: tuple[Client, str, dict], quiz: list, value: str
) -> None:
    client, participant, _ = started
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("s", is_staff=True))
    name = quiz[0].clip_real.audio.name
    audio = client.get(f"/api/participants/{participant}/").json()["questions"][0]["clips"]
    expected = 200  # not one plain byte range: ignored, the whole file
    if value == "bytes=1-0":  # a range, but of no byte
        expected = 416
    elif "\x00" in value or "\ud800" in value:  # no server sends these (hostile_headers)
        expected = 400
    for reply in (
        staff.get(f"/media/{name}", HTTP_RANGE=value),
        client.get(audio[0]["audio_url"], HTTP_RANGE=value),
    ):
        assert reply.status_code == expected
        if expected == 400:
            assert "Range header" in reply.content.decode()


@pytest.mark.parametrize("value", ABSURD_RANGES)
def test_the_fast_path_leaves_an_absurd_range_to_django(value: str, settings: Any) -> None:
    settings.MEDIA_ACCEL_REDIRECT = "/_media/"
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/m/" + "x" * 40,
        "HTTP_RANGE": value,
        "HTTP_COOKIE": f"sessionid={value}",
    }
    assert clip_fast.decide(environ) is None


@pytest.mark.parametrize("hop", ["9" * 10_000, "a\x00b", "192.0.2.1\xff", "not an address"])
def test_a_forwarded_address_that_is_none_counts_as_the_connections(
    hop: str, settings: Any, rf: Any
) -> None:
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("198.51.100.4"),)
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR=f"10.0.0.1, {hop}")
    assert client_address(request) == "198.51.100.4"
    request = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR=f"{hop}, 192.0.2.8")
    assert client_address(request) == "192.0.2.8"
