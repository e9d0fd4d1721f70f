"""A free batch end to end through a real broker: one worker process, then two; optionally the
one-worker batch on an earlier revision's code, for the per-piece time against it.

    .venv/bin/python benchmarks/throughput_cases/batch.py [--count 16] [--before REV]
        [--database-url postgres://postgres@127.0.0.1:5432/bachsurvey_throughput]
        [--broker redis://127.0.0.1:6379/3] [--logs DIR]

Each run starts from a fresh database (dropped, created, migrated by the code under test) and an
emptied Redis database (the broker, and the result backend the batch's chord needs), starts a
Celery worker on every queue (`--concurrency` 1, then 2: prefork processes, torch on one thread
each), queues `generate_batch --mode free --count N --seed S` and waits until the batch ends. A
run's time is the batch row's ``finished_at - created_at`` (PostgreSQL's clock): sampling, which
happens once (a single device batch: N ≤ GENERATION_DEVICE_BATCH), the fan-out, rendering and
storing each piece, and the judge. Neither the worker's start nor its warm-up is counted: a
batch of two pieces per process runs first, untimed, so that each process has loaded what
rendering needs, as a worker that has served a batch before has. The same seeds in a fresh
database draw the same pieces each run.

``--before REV`` checks REV out in a temporary git worktree (the virtual environment and the
prepared corpus linked in), and runs the one-worker batch on that code and a database migrated
by it. Timings on a shared 2-core machine are noisy: compare the ratios, printed as the last
line, one JSON object (``measure()`` returns it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks.export_stream import admin_connection  # noqa: E402

PYTHON = str(REPO / ".venv" / "bin" / "python")
CELERY = str(REPO / ".venv" / "bin" / "celery")
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bachsurvey_throughput"
DEFAULT_BROKER = "redis://127.0.0.1:6379/3"
ENDED = ("done", "failed", "cancelled")
# Pieces per worker process in the untimed batch first: each process then has imported and
# initialised what rendering needs (music21, the SVG engine), as a long-running worker's have.
WARM_UP_PIECES = 2


class Bench:
    """One code tree (this one, or REV's), its database and broker, and the workers it starts."""

    def __init__(self, code: Path, database_url: str, broker: str, logs: Path) -> None:
        self.code, self.database_url, self.broker, self.logs = code, database_url, broker, logs
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bachsurvey.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "DJANGO_DEBUG": "0",  # no query log kept in the workers' memory
            "DJANGO_SECRET_KEY": "benchmark-only",
            "DJANGO_HTTPS": "0",
            "DJANGO_MEDIA_ROOT": str(logs / "media"),
            "GENERATION_TORCH_THREADS": "1",  # one core per process: two processes on two cores
            "PYTHONUNBUFFERED": "1",
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=self.code, env=self.env, capture_output=True,
            text=True, timeout=600,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr[-2000:]}")
        return result.stdout

    def fresh(self) -> None:
        """An empty database migrated by this code, and an empty broker."""
        self.drop(create=True)
        self.manage("migrate", "--verbosity", "0")

    def drop(self, create: bool = False) -> None:
        admin, name = admin_connection(self.database_url)
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                admin.execute(f'CREATE DATABASE "{name}"')
        redis.Redis.from_url(self.broker).flushdb()

    @contextmanager
    def worker(self, concurrency: int, tag: str) -> Iterator[None]:
        """A worker on every queue with ``concurrency`` prefork processes, until the block ends."""
        log = self.logs / f"worker-{tag}.log"
        command = [
            CELERY, "-A", "bachsurvey", "worker", "-Q", "gpu,render,celery",
            "--concurrency", str(concurrency), "--pool", "prefork", "--without-mingle",
            "--without-gossip", "--without-heartbeat", "--loglevel", "info",
            "--hostname", f"bench-{tag}@%h",
        ]  # fmt: skip
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=self.code, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the pool's children stop with it
            )  # fmt: skip
        try:
            wait_for(lambda: " ready." in log.read_text(), 120, f"the worker ({log})")
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def batch(self, count: int, seed: int, temperature: float) -> dict[str, object]:
        """Queue a free batch, wait until it ends; its time from the row's own timestamps."""
        said = self.manage(
            "generate_batch", "--mode", "free", "--count", str(count), "--seed", str(seed),
            "--temperature", str(temperature),
        )  # fmt: skip
        batch_id = int(said.split()[2].rstrip(":"))  # "queued batch 1: …"
        wait_for(lambda: self.row(batch_id)[0] in ENDED, 3600, f"batch {batch_id}")
        status, seconds, stored, device, error = self.row(batch_id)
        if status != "done" or stored != count:
            raise RuntimeError(f"batch {batch_id} ended {status} with {stored} pieces: {error}")
        return {"seconds": seconds, "per_piece_s": seconds / count, "device": device}

    def row(self, batch_id: int) -> tuple:
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(
                "SELECT status, EXTRACT(EPOCH FROM finished_at - created_at)::float8,"
                " (SELECT count(*) FROM bachsurvey_chorale WHERE batch_id = b.id), device, error"
                " FROM bachsurvey_batch b WHERE id = %s",
                (batch_id,),
            ).fetchone()

    def run(self, concurrency: int, count: int, seed: int, temperature: float) -> dict:
        """A fresh database and worker; a warm-up batch, then the timed one."""
        self.fresh()
        with self.worker(concurrency, f"{self.code.name}-{concurrency}"):
            self.batch(WARM_UP_PIECES * concurrency, seed + 1, temperature)
            load = round(os.getloadavg()[0], 2)  # others' work on the machine shows here
            return {**self.batch(count, seed, temperature), "load": load}


def wait_for(condition: Callable[[], bool], seconds: float, what: str, poll: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not after {seconds:.0f} s")
        time.sleep(poll)


@contextmanager
def worktree_at(revision: str) -> Iterator[Path]:
    """REV's code in a temporary git worktree, with this checkout's venv and prepared corpus."""
    folder = Path(tempfile.mkdtemp(prefix="throughput-before-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), revision], cwd=REPO, check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        (folder / ".venv").symlink_to(REPO / ".venv")
        (folder / "var").mkdir(exist_ok=True)
        (folder / "var" / "corpus").symlink_to(REPO / "var" / "corpus")
        yield folder
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(folder)], cwd=REPO, capture_output=True
        )


def measure(
    count: int = 16,
    seed: int = 7,
    temperature: float = 0.8,
    before: str | None = None,
    database_url: str = DEFAULT_DATABASE,
    broker: str = DEFAULT_BROKER,
    logs: Path | None = None,
) -> dict[str, object]:
    """Seconds of a ``count``-piece free batch with one worker process and with two, their ratio
    (``workers_2_over_1``), one worker's seconds a piece, and with ``before`` (a git revision)
    that revision's one-worker seconds a piece and the ratio (``per_piece_vs_before``). The
    workers' logs go to ``logs`` (kept), else to a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="throughput-batch-") as temporary:
        logs = Path(logs or temporary)
        logs.mkdir(parents=True, exist_ok=True)
        here = Bench(REPO, database_url, broker, logs)
        one = here.run(1, count, seed, temperature)
        two = here.run(2, count, seed, temperature)
        figures: dict[str, object] = {
            "count": count,
            "device": one["device"],
            "seconds_1": round(one["seconds"], 2),
            "seconds_2": round(two["seconds"], 2),
            "workers_2_over_1": round(two["seconds"] / one["seconds"], 3),
            "per_piece_1_s": round(one["per_piece_s"], 3),
            "load_1min_at_start": [one["load"], two["load"]],
        }
        if before is not None:
            with worktree_at(before) as code:
                old = Bench(code, database_url, broker, logs).run(1, count, seed, temperature)
            figures["before"] = before
            figures["per_piece_before_s"] = round(old["per_piece_s"], 3)
            figures["per_piece_vs_before"] = round(one["per_piece_s"] / old["per_piece_s"], 3)
            figures["load_1min_at_start"].append(old["load"])  # type: ignore[attr-defined]
        here.drop()  # leave no bench database or message behind
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=16, help="pieces in the batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--before", metavar="REV", help="also the one-worker batch on REV's code")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="dropped and created")
    parser.add_argument("--broker", default=DEFAULT_BROKER, help="a Redis database, emptied")
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this folder")
    args = parser.parse_args()
    figures = measure(
        args.count, args.seed, args.temperature, args.before, args.database_url, args.broker,
        args.logs,
    )  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
