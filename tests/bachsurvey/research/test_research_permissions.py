"""Who may see the results: researchers only (group "researcher"), by token or session.

Anonymous: 401 from the API, a redirect to the login page from the dashboard. A logged-in user
outside the group, or a quiz participant's browser: 403.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from bachsurvey.research.role import RESEARCHER_GROUP, is_researcher
from tests.bachsurvey.research.data import make_user, token_for

pytestmark = pytest.mark.django_db

API = [
    "/api/results/summary/",
    "/api/results/items/",
    "/api/results/answers.csv",
    "/api/results/answers.json",
    "/api/results/codebook/",
]
PAGE = "/research/"


@pytest.mark.parametrize("url", API)
def test_anonymous_gets_401_with_the_token_challenge(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("url", API)
def test_a_wrong_token_gets_401(client: Client, url: str) -> None:
    assert client.get(url, HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


@pytest.mark.parametrize("url", API)
def test_a_participant_session_gets_403(quiz: list, quiz_client: Any, url: str) -> None:
    quiz_client.started()
    response = quiz_client.client.get(url)
    assert response.status_code == 403
    assert "participants" in response.json()["detail"]


@pytest.mark.parametrize("url", API)
def test_a_non_researcher_gets_403(client: Client, url: str) -> None:
    user = make_user("nora", researcher=False)
    client.force_login(user)
    assert client.get(url).status_code == 403
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    assert token.get(url).status_code == 403


@pytest.mark.parametrize("url", API)
def test_a_researcher_gets_the_data_by_token_or_session(client: Client, url: str) -> None:
    user = make_user("rita", researcher=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    assert api.get(url).status_code == 200
    client.force_login(user)
    assert client.get(url).status_code == 200


def test_an_inactive_researcher_is_refused(client: Client) -> None:
    user = make_user("rita", researcher=True)
    key = token_for(user)
    user.is_active = False
    user.save()
    assert not is_researcher(user)
    assert client.get(API[0], HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_the_dashboard_sends_anonymous_visitors_to_log_in(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/research/"


def test_the_dashboard_refuses_a_participant_session(quiz: list, quiz_client: Any) -> None:
    quiz_client.started()
    response = quiz_client.client.get(PAGE)
    assert response.status_code == 403
    assert "Researchers only" in response.content.decode()


def test_the_dashboard_refuses_a_non_researcher(client: Client) -> None:
    client.force_login(make_user("nora", researcher=False))
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "not in the researcher" in response.content.decode()


def test_a_researcher_logs_in_and_sees_the_dashboard(client: Client) -> None:
    make_user("rita", researcher=True, password="a long pass phrase 81")
    page = client.get("/accounts/login/?next=/research/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(
        "/accounts/login/",
        {"username": "rita", "password": "a long pass phrase 81", "next": "/research/"},
    )
    assert response.status_code == 302 and response["Location"] == "/research/"
    assert client.get(PAGE).status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get(PAGE).status_code == 302


def test_a_wrong_password_shows_an_error(client: Client) -> None:
    make_user("rita", researcher=True, password="a long pass phrase 81")
    response = client.post("/accounts/login/", {"username": "rita", "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_the_migration_created_the_group() -> None:
    assert Group.objects.filter(name=RESEARCHER_GROUP).exists()
