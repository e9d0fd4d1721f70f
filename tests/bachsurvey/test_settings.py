"""Settings come from the environment and fail loudly on bad values."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from bachsurvey import celery_app
from bachsurvey.env import database_from_url, env_bool, env_int, env_list

BASE = Path("/repo")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@host/db",
        "sqlite://",
        "sqlite://host/file.db",
        "postgres://user@host:5432",
        "postgres://user@host:port/db",
        "not a url",
    ],
)
def test_it_rejects_a_bad_database_url(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url(url, BASE)


def test_it_parses_a_postgres_url() -> None:
    db = database_from_url(
        "postgresql://bach:p%40ss@db.example:5433/chorales?sslmode=require", BASE
    )
    assert db["ENGINE"] == "bachsurvey.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("chorales", "bach", "p@ss")
    assert (db["HOST"], db["PORT"]) == ("db.example", "5433")
    assert db["OPTIONS"] == {"connect_timeout": "5", "sslmode": "require"}
    assert db["CONN_HEALTH_CHECKS"] is True


def test_a_connect_timeout_in_the_url_wins() -> None:
    db = database_from_url("postgres://u@h:5432/d?connect_timeout=1", BASE)
    assert db["OPTIONS"] == {"connect_timeout": "1"}


def test_it_resolves_sqlite_paths() -> None:
    assert database_from_url("sqlite:///var/x.db", BASE)["NAME"] == "/repo/var/x.db"
    assert database_from_url("sqlite:////tmp/x.db", BASE)["NAME"] == "/tmp/x.db"
    assert database_from_url("sqlite:///:memory:", BASE)["NAME"] == ":memory:"


def test_it_defaults_to_sqlite_in_var() -> None:
    db = database_from_url(None, BASE)
    assert db == {"ENGINE": "django.db.backends.sqlite3", "NAME": "/repo/var/db.sqlite3"}


@pytest.mark.parametrize(
    "value, expected", [("1", True), ("true", True), ("0", False), ("False", False)]
)
def test_it_parses_debug(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("DJANGO_DEBUG", value)
    assert env_bool("DJANGO_DEBUG", default=True) is expected


def test_it_rejects_a_bad_debug_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", default=True)


def test_it_treats_empty_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_DEBUG", "")
    assert env_bool("DJANGO_DEBUG", default=True) is True


def test_it_parses_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", " bach.example , .bot.example,, ")
    assert env_list("DJANGO_ALLOWED_HOSTS", "x") == ["bach.example", ".bot.example"]
    monkeypatch.delenv("DJANGO_ALLOWED_HOSTS")
    assert env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost") == ["127.0.0.1", "localhost"]
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", ",")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS"):
        env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1")


def test_it_rejects_a_bad_integer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "soon")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_CONN_MAX_AGE"):
        env_int("DATABASE_CONN_MAX_AGE", 60)
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)


def test_it_runs_tasks_in_process_only_without_a_broker() -> None:
    broker = os.environ.get("CELERY_BROKER_URL")
    assert celery_app.conf.broker_url == (broker or "memory://")
    assert bool(celery_app.conf.task_always_eager) is (broker is None)


def test_it_passes_the_system_checks() -> None:
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_it_has_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_it_uses_the_database_from_database_url() -> None:
    User.objects.create_user("bach", password="chorale-1724")
    assert User.objects.filter(username="bach").exists()
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
