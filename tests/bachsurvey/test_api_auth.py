"""The API authenticates by session or token only: HTTP Basic with a superuser's right password
is treated as no credentials on every API URL, so it cannot be used to guess passwords around
the login lockout; a wrong API token counts toward a lockout like a wrong password: it names no
user, so it counts for the address's tokens (bachsurvey.logins.tokens)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.bachsurvey.research import data as research_data

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase 81"
# A value for each kind of path parameter the API's routes take.
PARAMETERS = {"uuid": str(uuid.uuid4()), "str": "x", "int": "1", "slug": "x", "path": "x"}


def api_urls() -> Iterator[str]:
    """Every URL under /api/ the resolver knows, its parameters filled in."""

    def walk(patterns: list, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(\w+):\w+>", lambda m: PARAMETERS[m.group(1)], route)

    return (url for url in walk(get_resolver().url_patterns, "") if url.startswith("/api/"))


def basic(password: str) -> dict[str, str]:
    pair = base64.b64encode(f"boss:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {pair}"}


@pytest.fixture
def superuser(settings: Any) -> Any:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = research_data.make_user("boss", researcher=True, password=PASSWORD)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def test_the_resolver_lists_the_api() -> None:
    urls = list(api_urls())
    assert "/api/schema/" in urls and "/api/results/summary/" in urls
    assert any("/answers/" in url for url in urls)


@pytest.mark.parametrize("url", list(api_urls()))
@pytest.mark.parametrize("method", ["get", "post"])
def test_http_basic_authenticates_no_one(url: str, method: str, superuser: Any) -> None:
    def status(**headers: str) -> int:
        return getattr(Client(), method)(url, **headers).status_code

    anonymous = status()
    assert status(**basic(PASSWORD)) == anonymous  # the right password: no login
    assert status(**basic("wrong")) == anonymous  # and nothing tells the two apart


def test_the_schema_is_served_with_session_authentication_only() -> None:
    from rest_framework.authentication import BasicAuthentication

    from bachsurvey.api_docs import SchemaView

    view = SchemaView()
    assert not any(isinstance(a, BasicAuthentication) for a in view.get_authenticators())


def test_wrong_tokens_lock_the_address_out_of_tokens(superuser: Any, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    token = research_data.token_for(superuser)
    client = Client(REMOTE_ADDR="192.0.2.9")
    url = "/api/results/items/"
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    for _ in range(3):
        assert client.get(url, HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401
    refused = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")  # the right one too
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many wrong API tokens" in refused.json()["detail"]
    other = Client(REMOTE_ADDR="192.0.2.10")  # another address is not locked out
    assert other.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    # Nor is the user's password at that address: the wrong tokens named no user.
    page = client.post("/accounts/login/", {"username": "boss", "password": PASSWORD})
    assert page.status_code == 302


def test_wrong_tokens_from_many_addresses_lock_no_one_out(superuser: Any, settings: Any) -> None:
    """The limit per user name from all addresses does not apply to tokens, which name no user:
    someone's wrong tokens would otherwise lock every researcher's tokens out."""
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_USER_FAILURE_LIMIT = 3, 4
    url = "/api/results/items/"
    for n in range(6):
        guesser = Client(REMOTE_ADDR=f"198.51.100.{n}")
        assert guesser.get(url, HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401
    token = research_data.token_for(superuser)
    researcher = Client(REMOTE_ADDR="192.0.2.10")
    assert researcher.get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
