"""Failed logins lock an address out of both login pages for a while, right password included;
once the failures are forgotten, a right password logs in again."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.bachsurvey.conftest import settings_in_a_fresh_process

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase 81"
# The two login pages, and where a good login sends the browser.
PAGES = {"researcher": ("/accounts/login/", "/research/"), "admin": ("/admin/login/", "/admin/")}


@pytest.fixture(autouse=True)
def quick_logins(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900
    # The password hash is not what is tested: a fast one keeps each failed login cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db: None) -> Any:
    """A user who may log in on both pages (the admin's takes staff only)."""
    return get_user_model().objects.create_user("rita", password=PASSWORD, is_staff=True)


def log_in(client: Client, page: str, password: str) -> Any:
    url, target = PAGES[page]
    return client.post(url, {"username": "rita", "password": password, "next": target})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked_out(response: Any, at_most: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= at_most
    assert "Too many failed logins from your address" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_repeated_failures_lock_the_address_out(page: str, staff: Any, counting_cache: str) -> None:
    client = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(3):
        failed = log_in(client, page, "wrong")
        assert failed.status_code == 200 and b"correct username and password" in failed.content
    refused = log_in(client, page, PASSWORD)  # the right password is refused too
    assert_locked_out(refused, at_most=900)
    assert "15 minutes" in refused.content.decode()
    assert not logged_in(client)
    elsewhere = Client(REMOTE_ADDR="192.0.2.8")  # another address is not locked out
    assert log_in(elsewhere, page, PASSWORD).status_code == 302
    assert logged_in(elsewhere)


def test_one_lockout_covers_both_pages(staff: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(3):
        log_in(client, "admin", "wrong")
    assert_locked_out(log_in(client, "researcher", PASSWORD), at_most=900)


def test_good_logins_do_not_count(staff: Any) -> None:
    for _ in range(5):
        client = Client(REMOTE_ADDR="192.0.2.7")
        assert log_in(client, "researcher", PASSWORD).status_code == 302
    client = Client(REMOTE_ADDR="192.0.2.7")
    assert log_in(client, "researcher", "wrong").status_code == 200
    assert log_in(client, "researcher", PASSWORD).status_code == 302


@pytest.mark.parametrize("page", PAGES)
def test_a_good_login_works_once_the_lockout_is_over(
    page: str, staff: Any, settings: Any, counting_cache: str
) -> None:
    settings.LOGIN_LOCKOUT_SECONDS = 2
    client = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(3):
        log_in(client, page, "wrong")
    assert_locked_out(log_in(client, page, PASSWORD), at_most=2)
    time.sleep(2.2)
    response = log_in(client, page, PASSWORD)
    assert response.status_code == 302 and response["Location"] == PAGES[page][1]
    assert logged_in(client)


def test_zero_switches_the_lockout_off(staff: Any, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 0
    client = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(6):
        assert log_in(client, "researcher", "wrong").status_code == 200
    assert log_in(client, "researcher", PASSWORD).status_code == 302


def test_the_lockout_comes_from_the_environment() -> None:
    names = ["LOGIN_FAILURE_LIMIT", "LOGIN_LOCKOUT_SECONDS"]
    assert settings_in_a_fresh_process(names) == ["10", "900"]
    configured = dict(LOGIN_FAILURE_LIMIT="5", LOGIN_LOCKOUT_SECONDS="60")
    assert settings_in_a_fresh_process(names, **configured) == ["5", "60"]
