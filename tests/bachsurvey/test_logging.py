"""Errors seen in production: request ids on every reply and log line, every 500 logged with its
traceback as one JSON line, ADMINS and the log format from the environment (observability)."""

from __future__ import annotations

import io
import json
import logging
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from bachsurvey.observability import JsonFormatter, RequestIdFilter, admins_from, logging_config

REPO = Path(__file__).resolve().parents[2]


def broken_view(request: object) -> HttpResponse:
    raise RuntimeError("the model file is gone")


urlpatterns = [path("broken/", broken_view)]  # this module is the URLconf of the 500 test


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What django.request writes, as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_every_reply_carries_a_request_id_and_keeps_a_well_formed_one(db: object) -> None:
    client = Client()
    fresh = client.get("/healthz")["X-Request-ID"]
    assert len(fresh) == 32 and fresh != client.get("/healthz")["X-Request-ID"]
    given = "0123456789abcdef0123456789abcdef"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\\n{evil}")["X-Request-ID"]
    assert forged != "x\\n{evil}" and len(forged) == 32  # not echoed into logs or replies


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_500_is_one_json_line_with_its_traceback_and_request_id(json_lines: io.StringIO) -> None:
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["logger"] == "django.request" and error["status"] == 500
    assert error["request_id"] == response["X-Request-ID"]
    assert "RuntimeError: the model file is gone" in error["traceback"]


def test_admins_and_the_mail_handler_come_from_the_environment() -> None:
    assert admins_from("Ada <ada@example.org>, bob@example.org") == [
        ("Ada", "ada@example.org"),
        ("bob@example.org", "bob@example.org"),
    ]
    assert admins_from(None) == []
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ADMINS"):
        admins_from("nobody")
    with_mail = logging_config(True, "INFO", mail_admins=True)
    assert with_mail["loggers"]["django.request"]["handlers"] == ["console", "mail_admins"]
    assert logging_config(False, "INFO", mail_admins=False)["loggers"]["django.request"][
        "handlers"
    ] == ["console"]


def test_gunicorn_logs_each_request_with_its_id_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUNICORN_ACCESS_LOG", raising=False)
    config = runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
    assert config["accesslog"] == "-" and "%({x-request-id}o)s" in config["access_log_format"]
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "off")
    assert runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))["accesslog"] is None
    assert "proxy_set_header X-Request-ID $request_id;" in (REPO / "deploy/nginx.conf").read_text()
