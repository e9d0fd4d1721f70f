"""The quiz load (quiz_load.py) while a Celery worker is SIGKILLed in the middle of a batch.

    .venv/bin/python benchmarks/load/worker_kill.py [--count 6] [--kill-after 2] [--down 5] [...]

(quiz_load.py options, e.g. --users or --duration, are passed on.)

During the quiz phase it queues a free generation batch on a broker of its own (Redis database
--broker, emptied first), starts a worker (one prefork child), waits until --kill-after pieces
are stored and --kill-delay seconds more (by default mid-way through rendering the next piece,
whose files are on disk but not yet committed), then SIGKILLs the worker's whole process group,
as the kernel's OOM killer or a lost machine would: no warm shutdown, no acknowledgement, the
message stays unacknowledged in Redis. --down seconds later a fresh worker starts; Redis hands
the message out again once it has been unacknowledged for --visibility seconds (the
CELERY_VISIBILITY_TIMEOUT the worker runs with), and the batch resumes where it stopped.

It prints the batch's final counts from PostgreSQL (pieces stored against those asked for, any
index stored twice, questions, the worker's attempts), the media files the killed worker left
without a row (what `clean_media` is for), and the quiz answers' latency before the kill, from
the kill until the batch resumed, and after. It exits 1 unless the batch ends done with exactly
--count pieces, no duplicate, and no answer was lost or got a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quiz_load  # noqa: E402

REPO = quiz_load.REPO
MEDIA_ROOT = REPO / "var" / "load" / "media"  # serve.sh's DJANGO_MEDIA_ROOT
LOG_DIR = REPO / "var" / "load"
CELERY = str(Path(sys.executable).with_name("celery"))
FINISHED = ("done", "failed", "cancelled")


class WorkerFault:
    """Queues a batch, starts a worker, kills it mid-batch, starts another; times each step."""

    def __init__(self, args: argparse.Namespace, database_url: str) -> None:
        self.args = args
        self.database_url = database_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bachsurvey.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": args.broker,
            "CELERY_VISIBILITY_TIMEOUT": str(args.visibility),
            "DJANGO_MEDIA_ROOT": str(MEDIA_ROOT),
            "GENERATION_TORCH_THREADS": "1",  # the web server needs the other core
            "PYTHONUNBUFFERED": "1",
        }
        self.batch_id: int | None = None
        self.worker: subprocess.Popen | None = None
        self.starts = 0
        self.killed: float | None = None  # monotonic, as the load's events
        self.stored_at_kill = 0
        self.resumed: float | None = None  # the first piece stored after the kill
        self.finished: float | None = None
        self.began = time.time()  # wall clock, for the media files' mtimes

    def start_worker(self) -> None:
        self.starts += 1
        log = (LOG_DIR / f"worker-{self.starts}.log").open("w")
        self.worker = subprocess.Popen(
            [CELERY, "-A", "bachsurvey", "worker", "-Q", "gpu,render,celery", "--concurrency", "1",
             "--without-mingle", "--without-gossip", "--loglevel", "info",
             "--hostname", f"killbench{self.starts}@%h"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: SIGKILL reaches the pool child too
        )  # fmt: skip

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)

    def queue_batch(self) -> int:
        result = subprocess.run(
            [sys.executable, "manage.py", "generate_batch", "--mode", "free",
             "--count", str(self.args.count), "--seed", str(self.args.batch_seed)],
            cwd=REPO, env=self.env, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0 or not result.stdout.startswith("queued batch "):
            raise RuntimeError(f"generate_batch failed: {result.stdout}{result.stderr}")
        return int(result.stdout.split()[2].rstrip(":"))

    def stored(self) -> tuple[int, str]:
        with psycopg.connect(self.database_url) as connection:
            pieces = connection.execute(
                "SELECT count(*) FROM bachsurvey_chorale WHERE batch_id = %s", (self.batch_id,)
            ).fetchone()
            status = connection.execute(
                "SELECT status FROM bachsurvey_batch WHERE id = %s", (self.batch_id,)
            ).fetchone()
        return int(pieces[0]), str(status[0])

    async def wait_for(self, condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + seconds
        while not condition(*await asyncio.to_thread(self.stored)):
            if time.monotonic() > end:
                raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
            await asyncio.sleep(0.25)

    async def __call__(self) -> None:
        redis.Redis.from_url(self.args.broker).flushdb()  # no message left from an earlier run
        self.batch_id = await asyncio.to_thread(self.queue_batch)
        self.start_worker()
        kill_after = self.args.kill_after
        await self.wait_for(
            lambda n, s: n >= kill_after or s in FINISHED, 600, f"{kill_after} pieces"
        )
        await asyncio.sleep(self.args.kill_delay)
        self.killed = time.monotonic()
        self.kill_worker()
        self.stored_at_kill = (await asyncio.to_thread(self.stored))[0]
        await asyncio.sleep(self.args.down)
        self.start_worker()
        at_kill = self.stored_at_kill
        await self.wait_for(lambda n, s: n > at_kill or s in FINISHED, 900, "the batch to resume")
        self.resumed = time.monotonic()
        await self.wait_for(lambda n, s: s in FINISHED, 900, "the batch to end")
        self.finished = time.monotonic()
        self.stop_worker()


def batch_counts(database_url: str, batch_id: int) -> dict[str, object]:
    with psycopg.connect(database_url) as connection:
        status, count, attempts, error = connection.execute(
            "SELECT status, count, attempts, error FROM bachsurvey_batch WHERE id = %s",
            (batch_id,),
        ).fetchone()
        rows, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT index) FROM bachsurvey_chorale WHERE batch_id = %s",
            (batch_id,),
        ).fetchone()
        questions = connection.execute(
            "SELECT count(*) FROM bachsurvey_question q JOIN bachsurvey_clip c"
            " ON q.clip_generated_id = c.id JOIN bachsurvey_chorale h ON c.chorale_id = h.id"
            " WHERE h.batch_id = %s",
            (batch_id,),
        ).fetchone()[0]
        referenced = {
            path
            for pair in connection.execute("SELECT audio, score FROM bachsurvey_clip")
            for path in pair
        }
    return {
        "status": status,
        "asked": count,
        "stored": rows,
        "duplicates": rows - distinct,
        "questions": questions,
        "attempts": attempts,
        "error": error,
        "referenced": referenced,
    }


def orphan_files(referenced: set[str], since: float) -> list[Path]:
    """Clips and scores written since ``since`` (wall clock) that no clip row names."""
    found = []
    for folder in ("clips", "scores"):
        for path in (MEDIA_ROOT / folder).glob("*"):
            relative = path.relative_to(MEDIA_ROOT).as_posix()
            if path.stat().st_mtime >= since and relative not in referenced:
                found.append(path)
    return found


def answer_latency(events: list[quiz_load.Event], begin: float, end: float) -> str:
    ms = [e.ms for e in events if e.kind == "answer" and e.status and begin <= e.start < end]
    if not ms:
        return "no answers"
    return (
        f"{len(ms):5d} answers, p50 {quiz_load.percentile(ms, 50):6.0f} ms, "
        f"p99 {quiz_load.percentile(ms, 99):6.0f} ms, max {max(ms):6.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, add_help=False, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=6, help="pieces in the batch")
    parser.add_argument("--kill-after", type=int, default=2, help="pieces stored before the kill")
    parser.add_argument(
        "--kill-delay", type=float, default=1.5, help="s after the last of those pieces"
    )
    parser.add_argument("--down", type=float, default=5.0, help="s before a new worker starts")
    parser.add_argument("--visibility", type=int, default=10, help="CELERY_VISIBILITY_TIMEOUT")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/2", help="emptied first")
    parser.add_argument("--batch-seed", type=int, default=None, help="default: drawn")
    ours, rest = parser.parse_known_args()
    if "-h" in rest or "--help" in rest:
        parser.print_help()
        print("\nquiz_load options:")
        quiz_load.parser().print_help()
        return 0
    if not 0 < ours.kill_after < ours.count:
        sys.exit("--kill-after must be at least 1 and fewer than --count")
    if ours.batch_seed is None:  # a fresh seed: an earlier run's pieces are no help
        ours.batch_seed = int.from_bytes(os.urandom(4), "big")
    database_url = quiz_load.parser().parse_known_args(rest)[0].database_url
    fault = WorkerFault(ours, database_url)
    # The load lasts until the batch has resumed, at least: --duration should cover the kill.
    argv = ["--trivial-seconds", "0", "--duration", "90", *rest]
    try:
        run, figures = quiz_load.main(argv, during=fault)
    finally:
        fault.stop_worker()
    return verdict(run, figures, fault, database_url)


def verdict(run: quiz_load.Run, figures: dict, fault: WorkerFault, database_url: str) -> int:
    if fault.batch_id is None or fault.killed is None or fault.finished is None:
        print("the batch was not killed and finished within the run")
        return 1
    assert fault.resumed is not None
    counts = batch_counts(database_url, fault.batch_id)
    orphans = orphan_files(counts.pop("referenced"), fault.began)  # type: ignore[arg-type]
    print(
        f"worker killed after {fault.stored_at_kill} of {counts['asked']} pieces; a new one "
        f"started {fault.args.down:.0f} s later; the batch resumed "
        f"{fault.resumed - fault.killed:.1f} s after the kill (visibility timeout "
        f"{fault.args.visibility} s) and ended {fault.finished - fault.killed:.1f} s after it"
    )
    print(
        f"batch {fault.batch_id}: {counts['status']}, {counts['stored']} pieces stored of "
        f"{counts['asked']} asked, {counts['duplicates']} duplicates, {counts['questions']} "
        f"questions, {counts['attempts']} attempts"
        + (f"; error: {counts['error']}" if counts["error"] else "")
    )
    print(
        f"media files left without a row by the kill: {len(orphans)} "
        f"({sum(p.stat().st_size for p in orphans) / 1024:.0f} KiB; clean_media removes them)"
    )
    events = run.events
    start = min((e.start for e in events), default=fault.killed)
    print("quiz answers (status < 500):")
    print(f"  before the kill         {answer_latency(events, start, fault.killed)}")
    print(f"  kill until resumed      {answer_latency(events, fault.killed, fault.resumed)}")
    print(f"  after it resumed        {answer_latency(events, fault.resumed, float('inf'))}")
    failed = [e for e in events if e.status is None or e.status >= 500]
    db = figures["database"] or {}
    problems = []
    if counts["status"] != "done":
        problems.append(f"the batch ended {counts['status']}")
    if counts["stored"] != counts["asked"] or counts["duplicates"]:
        problems.append("pieces missing or stored twice")
    if db.get("lost", 0) or db.get("duplicated", 0):
        problems.append("answers lost or duplicated")
    if failed:
        problems.append(f"{len(failed)} requests failed (5xx or no reply)")
    print("verdict:", "PASS" if not problems else "FAIL: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
