"""python manage.py create_researcher USERNAME [--password [PASSWORD]] [--email EMAIL]."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bachsurvey.management.commands import create_researcher
from bachsurvey.research.role import is_researcher

pytestmark = pytest.mark.django_db
PASSWORD = "a long pass phrase 81"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_researcher", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_it_creates_a_researcher_and_prints_a_working_token() -> None:
    token, message = run("alice", "--email", "alice@example.org")
    user = get_user_model().objects.get(username="alice")
    assert is_researcher(user) and user.email == "alice@example.org"
    assert token == Token.objects.get(user=user).key
    assert not user.has_usable_password()  # token only until a password is set
    assert "Created user 'alice'" in message and "API token only" in message
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/results/summary/").status_code == 200


def test_it_adds_an_existing_user_and_keeps_their_password_and_token() -> None:
    user = get_user_model().objects.create_user("bob", password=PASSWORD)
    existing = Token.objects.create(user=user)
    token, message = run("bob")
    user.refresh_from_db()
    assert is_researcher(user) and user.check_password(PASSWORD)
    assert token == existing.key and "Existing user 'bob'" in message


def test_running_it_twice_changes_nothing() -> None:
    first, _ = run("carol", "--password", PASSWORD)
    second, _ = run("carol")
    user = get_user_model().objects.get(username="carol")
    assert first == second and user.groups.count() == 1 and user.check_password(PASSWORD)


def test_it_sets_a_password_given_on_the_command_line() -> None:
    run("dave", "--password", PASSWORD)
    assert get_user_model().objects.get(username="dave").check_password(PASSWORD)


def test_it_asks_for_the_password_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(create_researcher.getpass, "getpass", lambda prompt: next(answers))
    run("erin", "--password")
    assert get_user_model().objects.get(username="erin").check_password(PASSWORD)


def test_mismatched_passwords_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(create_researcher.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="do not match"):
        run("frank", "--password")
    assert not get_user_model().objects.filter(username="frank").exists()


def test_a_weak_password_is_refused_and_nothing_is_created() -> None:
    with pytest.raises(CommandError, match="too short|too common"):
        run("gina", "--password", "abc")
    assert not get_user_model().objects.filter(username="gina").exists()


def test_it_reactivates_a_deactivated_user() -> None:
    get_user_model().objects.create_user("hugo", is_active=False)
    run("hugo")
    assert is_researcher(get_user_model().objects.get(username="hugo"))
