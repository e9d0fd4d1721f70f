"""Production settings: DJANGO_HTTPS turns on secure cookies, HSTS and the HTTPS redirect, and
`manage.py check --deploy` is clean with it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
    )


def setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    return run_manage("shell", "-c", code, **env).stdout.strip().splitlines()[-1]


PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}


def test_check_deploy_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_https_is_on_by_default_when_debug_is_off_and_can_be_turned_off():
    assert setting("SECURE_SSL_REDIRECT", **PRODUCTION) == "True"
    assert setting("SESSION_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting("SECURE_HSTS_SECONDS", **PRODUCTION) == "31536000"
    plain = {**PRODUCTION, "DJANGO_HTTPS": "0"}
    assert setting("SECURE_SSL_REDIRECT", **plain) == "False"
    assert setting("SECURE_HSTS_SECONDS", **plain) == "0"
    assert setting("SECURE_SSL_REDIRECT", DJANGO_DEBUG="1") == "False"


def test_a_bad_https_value_stops_start_up():
    result = run_manage("check", **{**PRODUCTION, "DJANGO_HTTPS": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_HTTPS" in result.stderr
