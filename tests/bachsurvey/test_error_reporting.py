"""Optional error reporting (bachsurvey.error_reporting): with ERROR_REPORTING_DSN set, a 500's
exception reaches a Sentry-protocol collector, here a real HTTP server on loopback; a bad DSN
stops start-up naming the variable; unset, nothing starts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from bachsurvey.error_reporting import start_error_reporting

REPO = Path(__file__).resolve().parents[2]

# Run in a fresh process, so the reporting client starts from the settings as in production.
SCRIPT = """
import django, sentry_sdk
from django.test import Client, override_settings
django.setup()
with override_settings(ROOT_URLCONF="tests.bachsurvey.test_logging", ALLOWED_HOSTS=["*"]):
    status = Client(raise_request_exception=False).get("/broken/").status_code
sentry_sdk.flush(timeout=10)
print(status)
"""


@pytest.fixture
def collector() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server that keeps every body posted to it; its DSN."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_port}/1", received
    finally:
        server.shutdown()


def test_a_500_reaches_the_collector_without_personal_data(
    collector: tuple[str, list[bytes]],
) -> None:
    dsn, received = collector
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bachsurvey.settings",
        "ERROR_REPORTING_DSN": dsn,
        "DATABASE_URL": "sqlite:///var/error-reporting-test.sqlite3",
    }
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("500")
    reports = b"".join(received)
    assert b"the model file is gone" in reports and b"RuntimeError" in reports
    assert b"127.0.0.1" not in reports.split(b"\n", 1)[1]  # no client address in the event


def test_a_bad_dsn_names_the_variable_and_none_starts_nothing() -> None:
    with pytest.raises(ImproperlyConfigured, match="ERROR_REPORTING_DSN"):
        start_error_reporting("not a dsn", "production")
    assert start_error_reporting(None, "production") is False
    assert start_error_reporting("", "production") is False
