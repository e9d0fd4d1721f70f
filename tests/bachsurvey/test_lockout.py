"""Failed logins lock out a user name at an address (django-axes), on both login pages, right
password included; other users at that address log in as usual; once the failures are
forgotten, or staff reset them, a right password logs in again. A user name failing from many
addresses is locked out everywhere past a larger limit."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from tests.bachsurvey.conftest import settings_in_a_fresh_process

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase 81"
# The two login pages, and where a good login sends the browser.
PAGES = {"researcher": ("/accounts/login/", "/research/"), "admin": ("/admin/login/", "/admin/")}
SHARED = "192.0.2.7"  # a campus's NAT


@pytest.fixture(autouse=True)
def quick_logins(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_USER_FAILURE_LIMIT = 100
    settings.LOGIN_LOCKOUT_SECONDS = 900
    # The password hash is not what is tested: a fast one keeps each failed login cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db: None) -> Any:
    """Users who may log in on both pages (the admin's takes staff only)."""
    for name in ("rita", "sam"):
        get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)


def log_in(address: str, page: str, password: str, user: str = "rita", **headers: str) -> Any:
    url, target = PAGES[page]
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(url, {"username": user, "password": password, "next": target})
    response.logged_in = "_auth_user_id" in client.session
    return response


def fail(times: int, address: str = SHARED, page: str = "researcher", user: str = "rita") -> None:
    for _ in range(times):
        failed = log_in(address, page, "wrong", user)
        assert failed.status_code == 200 and b"correct username and password" in failed.content


def assert_locked_out(response: Any, at_most: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= at_most
    assert "Too many failed logins for this user name" in response.content.decode()
    assert not response.logged_in


def assert_logs_in(response: Any) -> None:
    assert response.status_code == 302 and response.logged_in


@pytest.mark.parametrize("page", PAGES)
def test_repeated_failures_lock_the_user_name_out_at_that_address(page: str, staff: Any) -> None:
    fail(3, page=page)
    refused = log_in(SHARED, page, PASSWORD)  # the right password is refused too
    assert_locked_out(refused, at_most=900)
    assert "15 minutes" in refused.content.decode()
    assert_logs_in(log_in("192.0.2.8", page, PASSWORD))  # the user elsewhere


@pytest.mark.parametrize("page", PAGES)
def test_another_user_at_the_same_address_is_not_locked_out(page: str, staff: Any) -> None:
    """Issue 19: a lockout by address alone locked everyone behind a campus NAT out."""
    fail(3, page=page)
    assert_logs_in(log_in(SHARED, page, PASSWORD, user="sam"))
    fail(2, page=page, user="sam")  # sam's failures are sam's own


def test_a_forged_forwarded_address_does_not_dodge_the_lockout(staff: Any, settings: Any) -> None:
    """Issue 19: behind a proxy, a guesser reaching gunicorn directly wrote X-Forwarded-For
    afresh for each try, and each try counted for another address."""
    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1"),)
    direct = "198.51.100.20"
    for n in range(3):
        forged = {"HTTP_X_FORWARDED_FOR": f"10.9.0.{n}"}
        assert log_in(direct, "admin", "wrong", **forged).status_code == 200
    forged = {"HTTP_X_FORWARDED_FOR": "10.9.0.99"}
    assert_locked_out(log_in(direct, "admin", PASSWORD, **forged), at_most=900)
    # Through the trusted proxy, the address it appended is the client: another person.
    through_nginx = {"HTTP_X_FORWARDED_FOR": f"{direct}, 203.0.113.9"}
    assert_logs_in(log_in("127.0.0.1", "admin", PASSWORD, **through_nginx))
    through_nginx = {"HTTP_X_FORWARDED_FOR": direct}
    assert_locked_out(log_in("127.0.0.1", "admin", PASSWORD, **through_nginx), at_most=900)


def test_one_lockout_covers_both_pages(staff: Any) -> None:
    fail(3, page="admin")
    assert_locked_out(log_in(SHARED, "researcher", PASSWORD), at_most=900)


def test_a_good_login_forgives_that_pairs_failures(staff: Any) -> None:
    fail(2)
    assert_logs_in(log_in(SHARED, "researcher", PASSWORD))
    fail(2)  # counting starts again: two more are not a lockout
    assert_logs_in(log_in(SHARED, "researcher", PASSWORD))


def test_refused_logins_do_not_prolong_the_lockout(staff: Any, settings: Any) -> None:
    fail(3)
    counted = AccessAttempt.objects.get(username="rita")
    for _ in range(3):
        assert log_in(SHARED, "researcher", "wrong").status_code == 429
    again = AccessAttempt.objects.get(username="rita")
    assert (again.failures_since_start, again.attempt_time) == (3, counted.attempt_time)


@pytest.mark.parametrize("page", PAGES)
def test_a_good_login_works_once_the_lockout_is_over(page: str, staff: Any, settings: Any) -> None:
    settings.LOGIN_LOCKOUT_SECONDS = 2
    fail(3, page=page)
    assert_locked_out(log_in(SHARED, page, PASSWORD), at_most=2)
    time.sleep(2.2)
    response = log_in(SHARED, page, PASSWORD)
    assert_logs_in(response)
    assert response["Location"] == PAGES[page][1]


def test_one_user_name_guessed_from_many_addresses_is_locked_out_everywhere(
    staff: Any, settings: Any
) -> None:
    settings.LOGIN_USER_FAILURE_LIMIT = 5
    for n in range(5):  # under the pair limit at each address
        fail(1, address=f"198.51.100.{n}")
    assert_locked_out(log_in("203.0.113.1", "admin", PASSWORD), at_most=900)
    assert_logs_in(log_in("203.0.113.1", "admin", PASSWORD, user="sam"))


def test_zero_switches_the_limits_off(staff: Any, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = settings.LOGIN_USER_FAILURE_LIMIT = 0
    fail(6)
    assert_logs_in(log_in(SHARED, "researcher", PASSWORD))


def test_the_lockout_comes_from_the_environment() -> None:
    names = ["LOGIN_FAILURE_LIMIT", "LOGIN_USER_FAILURE_LIMIT", "LOGIN_LOCKOUT_SECONDS"]
    assert settings_in_a_fresh_process(names) == ["10", "100", "900"]
    configured = dict(
        LOGIN_FAILURE_LIMIT="5", LOGIN_USER_FAILURE_LIMIT="0", LOGIN_LOCKOUT_SECONDS="60"
    )
    assert settings_in_a_fresh_process(names, **configured) == ["5", "0", "60"]
    with pytest.raises(AssertionError, match="LOGIN_USER_FAILURE_LIMIT must be at least 0"):
        settings_in_a_fresh_process(names, LOGIN_USER_FAILURE_LIMIT="-1")
