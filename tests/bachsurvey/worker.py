"""A real Celery worker in a subprocess, on the real Redis and the PostgreSQL test database.

The worker consumes every queue (`gpu`, `render` and the default) with one solo process, so
SIGKILL kills the process that runs the task, as a crashed machine would; a second one may take
only the `render` queue, as a CPU machine would. Its visibility timeout is a few
seconds: a message it held when it died is handed out again that soon, not after an hour.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
VISIBILITY_TIMEOUT_S = 3
CELERY = str(Path(sys.executable).with_name("celery"))


def worker_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created (test_<name>)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(
        self, log_dir: Path, media_root: Path, queues: str = "gpu,render,celery", name: str = "test"
    ) -> None:
        self.log_dir, self.queues, self.name = log_dir, queues, name
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bachsurvey.settings",
            "DATABASE_URL": worker_database_url(),
            "DATABASE_CONN_MAX_AGE": "0",  # hold no connection between tasks (tests flush tables)
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
            "DJANGO_MEDIA_ROOT": str(media_root),
            "GENERATION_CHECKPOINT": str(settings.GENERATION_CHECKPOINT),
            "HARMONIZATION_CHECKPOINT": str(settings.HARMONIZATION_CHECKPOINT),
            "GENERATION_TORCH_THREADS": "1",  # a loaded 2-core machine
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def start(self, timeout: float = 90) -> None:
        self.starts += 1
        command = [
            CELERY, "-A", "bachsurvey", "worker", "-Q", self.queues, "--concurrency", "1",
            "--pool", "solo", "--without-mingle", "--without-gossip", "--without-heartbeat",
            "--loglevel", "info", "--hostname", f"{self.name}{self.starts}-{os.getpid()}@%h",
        ]  # fmt: skip
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
        wait_until(lambda: " ready." in self.log.read_text(), timeout, f"worker start ({self.log})")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, nothing given back to the broker."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGQUIT)  # cold shutdown: do not finish a task
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def running_task(self) -> str | None:
        """The task this worker runs now, by name: the last its log says it received (a solo
        worker that acknowledges late takes the next message only once it has ended one)."""
        received = re.findall(
            r"Task bachsurvey\.tasks\.(\w+)\[[0-9a-f-]+\] received", self.log.read_text()
        )
        return received[-1] if received else None

    def logs(self) -> str:
        return "\n".join(p.read_text()[-4000:] for p in sorted(self.log_dir.glob("worker-*.log")))


def wait_until(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(poll)
