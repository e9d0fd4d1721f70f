"""Staff see the current lockouts in the admin (user name, address, failures, since, until) and
reset them, one pair or a user name at every address; others see nothing of them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from bachsurvey.security_headers import ADMIN_CONTENT_SECURITY_POLICY
from tests.bachsurvey.test_security_headers import assert_protected

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase 81"
LOCKOUTS = "/admin/axes/accessattempt/"


@pytest.fixture(autouse=True)
def failures(settings: Any) -> None:
    """rita locked out at one address, rita and sam each with a failure at others."""
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name in ("rita", "sam"):
        get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)
    for user, address, times in [("rita", "192.0.2.7", 3), ("rita", "192.0.2.8", 1)]:
        for _ in range(times):
            wrong(user, address)
    wrong("sam", "192.0.2.7")


def wrong(user: str, address: str) -> Any:
    client = Client(REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"username": user, "password": "wrong"})


def logs_in(user: str, address: str) -> bool:
    client = Client(REMOTE_ADDR=address)
    client.post("/accounts/login/", {"username": user, "password": PASSWORD})
    return "_auth_user_id" in client.session


def rows(html: str) -> list[str]:
    """The change list's rows, as text, one string a row."""
    found = re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">(.*?)</tr>', html, re.DOTALL)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in found]


def pk(user: str, address: str) -> str:
    return str(AccessAttempt.objects.get(username=user, ip_address=address).pk)


def test_it_lists_the_current_lockouts_under_the_policy(admin_client: Client) -> None:
    response = admin_client.get(LOCKOUTS)
    assert response.status_code == 200
    assert_protected(response, ADMIN_CONTENT_SECURITY_POLICY)
    listed = rows(response.content.decode())
    assert len(listed) == 3
    locked = next(row for row in listed if "rita 192.0.2.7" in row)
    assert locked.startswith("rita 192.0.2.7 3 ")
    attempt = AccessAttempt.objects.get(username="rita", ip_address="192.0.2.7")
    until = timezone.localtime(attempt.attempt_time + timedelta(minutes=15))
    assert f"{until:%Y-%m-%d %H:%M:%S} (this address)" in locked
    assert sum("not locked out" in row for row in listed) == 2


def test_it_shows_a_user_name_locked_out_at_every_address(
    admin_client: Client, settings: Any
) -> None:
    settings.LOGIN_USER_FAILURE_LIMIT = 4
    listed = rows(admin_client.get(LOCKOUTS).content.decode())
    assert sum("(every address)" in row for row in listed) == 2  # both of rita's rows


def test_forgotten_failures_are_not_listed(admin_client: Client) -> None:
    old = timezone.now() - timedelta(minutes=16)
    AccessAttempt.objects.filter(username="sam").update(attempt_time=old)
    listed = rows(admin_client.get(LOCKOUTS).content.decode())
    assert not any("sam" in row for row in listed) and len(listed) == 2


def test_resetting_a_pair_lets_that_user_log_in_there(admin_client: Client) -> None:
    assert not logs_in("rita", "192.0.2.7")
    action = {"action": "reset_pairs", "_selected_action": [pk("rita", "192.0.2.7")]}
    assert admin_client.post(LOCKOUTS, action).status_code == 302
    assert logs_in("rita", "192.0.2.7")
    assert AccessAttempt.objects.filter(username="rita", ip_address="192.0.2.8").exists()


def test_resetting_a_user_name_resets_it_at_every_address(admin_client: Client) -> None:
    action = {"action": "reset_user_names", "_selected_action": [pk("rita", "192.0.2.8")]}
    assert admin_client.post(LOCKOUTS, action).status_code == 302
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["sam"]
    assert logs_in("rita", "192.0.2.7")


def test_all_lockouts_are_reset_at_once(admin_client: Client) -> None:
    action = {"action": "reset_pairs", "select_across": "1", "_selected_action": ["0"]}
    assert admin_client.post(LOCKOUTS, action).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_staff_without_the_permission_and_others_see_nothing() -> None:
    staff = get_user_model().objects.create_user("tom", password=PASSWORD, is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(LOCKOUTS).status_code == 403
    researcher = get_user_model().objects.create_user("una", password=PASSWORD)
    client.force_login(researcher)
    assert client.get(LOCKOUTS).status_code == 302  # to the admin's login page
    assert client.post(LOCKOUTS, {"action": "reset_pairs", "select_across": "1"}).status_code == 302
    assert AccessAttempt.objects.count() == 3
