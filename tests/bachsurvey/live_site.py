"""The real site in other processes, for the tests that need it: gunicorn from deploy/, nginx from
deploy/nginx.conf in front of it, and a browser-like HTTP client (cookies, CSRF) to talk to them."""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
BACKGROUND = {"consent": True, "age_group": "26-45", "experience": "intermediate"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_env(port: int, media_root: Path, db_port: int | None = None, **extra: str) -> dict:
    """The environment of a production web process (DEBUG off, plain HTTP, rate limits off) on
    the test database (through ``db_port`` when given: a relay), with ``extra`` added."""
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = "127.0.0.1" if db_port else (db["HOST"] or "127.0.0.1")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))},
        "DATABASE_URL": f"postgres://{user}{password}@{host}:{db_port or db['PORT'] or 5432}/"
        f"{db['NAME']}",
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_MEDIA_ROOT": str(media_root),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "RATE_LIMIT_PARTICIPANTS": "0",
        "RATE_LIMIT_ANSWERS": "0",
        **extra,
    }
    if "CACHE_URL" not in extra:
        env.pop("CACHE_URL", None)
    return env


def _wait_for(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text()}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _serving(what: str, command: list[str], base: str, log: Path, **popen: object) -> Iterator[str]:
    """``command`` running until the block ends, once ``base``/healthz answers; yields ``base``."""
    with log.open("w") as output:  # a file, not a pipe: a full pipe would block the server
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, **popen)
    try:
        _wait_for(base + "/healthz", server, log, what)
        yield base
    finally:
        _stop(server)


def gunicorn(env: dict, log: Path) -> AbstractContextManager[str]:
    """gunicorn with deploy/gunicorn.conf.py and ``env``, until the block ends; its base URL."""
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
    return _serving("gunicorn", command, f"http://{env['GUNICORN_BIND']}", log, cwd=REPO, env=env)


def nginx(upstream: str, media_root: Path, folder: Path) -> AbstractContextManager[str]:
    """nginx with deploy/nginx.conf filled in as benchmarks/load/serve.sh fills it, in front of
    ``upstream`` (host:port), until the block ends; its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed: bash .ci/setup installs it (Debian's nginx-light)")
    port = free_port()
    static = folder / "static"
    static.mkdir(parents=True, exist_ok=True)
    config = (REPO / "deploy" / "nginx.conf").read_text()
    for mark, value in {
        "@LISTEN@": f"127.0.0.1:{port}",
        "@UPSTREAM@": upstream,
        "@STATIC@": str(static),
        "@MEDIA@": str(media_root),
        "@VAR@": str(folder),
    }.items():
        config = config.replace(mark, value)
    (folder / "nginx.conf").write_text(config)
    # Started as root, nginx's workers would run as nobody, who cannot read pytest's folders.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    command = [binary, "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf")]
    base = f"http://127.0.0.1:{port}"
    return _serving("nginx", [*command, "-g", directives], base, folder / "nginx.log")


class Browser:
    """One browser session against the real server: cookies, and the CSRF header on POSTs."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, Any, Any]:
        """Status, headers and the body: JSON decoded, text as str, anything else as bytes."""
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        token = next((c.value for c in self.jar if c.name == "csrftoken"), None)
        if token:
            headers["X-CSRFToken"] = token
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=20) as response:
                status, reply_headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, content = error.code, error.headers, error.read()
        kind = reply_headers.get("Content-Type", "")
        if kind.startswith("application/json"):
            return status, reply_headers, json.loads(content)
        if kind.startswith("text/"):
            return status, reply_headers, content.decode()
        return status, reply_headers, content

    def start(self) -> dict:
        assert self.request("GET", "/")[0] == 200  # the page sets the CSRF cookie
        status, _, created = self.request("POST", "/api/participants/", BACKGROUND)
        assert status == 201, created
        return created

    def answer(self, participant: str, question: str, choice: str = "A") -> tuple[int, Any, Any]:
        body = {
            "question": question,
            "choice": choice,
            "response_ms": 4000,
            "plays": {"A": 1, "B": 1},
            "heard_fully": {"A": True, "B": True},
        }
        return self.request("POST", f"/api/participants/{participant}/answers/", body)
