"""The quiz load (quiz_load.py) with PostgreSQL stopped and started again in the middle of it.

    .venv/bin/python benchmarks/load/pg_restart.py [--down-seconds 3] [--restart-at 10] [...]

(quiz_load.py options, e.g. --users, are passed on.)

It reports the requests that failed while PostgreSQL was away and how (expected: 503 with
Retry-After, which the load's users retry after that many seconds; no 500, no connection reset),
and checks in PostgreSQL afterwards that every answer that got a 201 is stored, and none twice.
It exits 1 when one of those does not hold.

Which PostgreSQL: by default a cluster of its own, `bachload` on port 5433 (made with
pg_createcluster on first use, trust authentication on loopback; needs root, as on these
machines), so that the restart cuts nobody else's connections. `--cluster 15/main --port 5432`
restarts the machine's main cluster instead: every other client of it (test runs, the
development database) is cut too.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import quiz_load  # noqa: E402

DEFAULT_CLUSTER = "bachload"
DEFAULT_PORT = 5433


def postgres_version() -> str:
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        sys.exit("no PostgreSQL cluster configuration under /etc/postgresql")
    return versions[-1].name


def ensure_cluster(version: str, name: str, port: int) -> bool:
    """Create (first use) and start the cluster, saying whether it had to be started; fail with
    a clear message if it cannot be."""
    if shutil.which("pg_ctlcluster") is None:
        sys.exit("pg_ctlcluster not found: this needs Debian's postgresql-common")
    if not Path(f"/etc/postgresql/{version}/{name}").is_dir():
        if name == "main":
            sys.exit(f"cluster {version}/main does not exist")
        print(f"creating PostgreSQL cluster {version}/{name} on port {port}", flush=True)
        subprocess.run(
            ["pg_createcluster", version, name, "-p", str(port), "--",
             "--auth-local=trust", "--auth-host=trust"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    ready = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
    if subprocess.run(ready).returncode == 0:
        return False
    pg_ctl(version, name, "start")
    wait_ready(port, 30)
    return True


def pg_ctl(version: str, name: str, action: str) -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action]
    if action in ("stop", "restart"):
        command += ["-m", "fast"]  # what a restart for maintenance does: cut clients, no wait
    subprocess.run(command, check=True)


def wait_ready(port: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    ready = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
    while subprocess.run(ready).returncode != 0:
        if time.monotonic() > end:
            sys.exit(f"PostgreSQL on port {port} did not come up within {seconds:.0f} s")
        time.sleep(0.2)


class Fault:
    """Stops PostgreSQL at ``at`` seconds into the quiz phase, starts it ``down`` seconds later."""

    def __init__(self, version: str, name: str, port: int, at: float, down: float) -> None:
        self.version, self.name, self.port, self.at, self.down = version, name, port, at, down
        self.stopping: float | None = None  # monotonic times, as the load's events
        self.stopped: float | None = None
        self.starting: float | None = None
        self.ready: float | None = None

    async def _run(self, action: str) -> None:
        process = await asyncio.create_subprocess_exec(
            "pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action,
            *(["-m", "fast"] if action == "stop" else []),
        )  # fmt: skip
        if await process.wait() != 0:
            raise RuntimeError(f"pg_ctlcluster {action} failed")

    async def __call__(self) -> None:
        await asyncio.sleep(self.at)
        self.stopping = time.monotonic()
        await self._run("stop")
        self.stopped = time.monotonic()
        await asyncio.sleep(self.down)
        self.starting = time.monotonic()
        await self._run("start")
        while True:
            check = await asyncio.create_subprocess_exec(
                "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)
            )
            if await check.wait() == 0:
                break
            await asyncio.sleep(0.1)
        self.ready = time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, add_help=False, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cluster", default=None, help="VERSION/NAME (default: VERSION/bachload)")
    parser.add_argument("--pg-port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--restart-at", type=float, default=10.0, help="s into the quiz phase")
    parser.add_argument("--down-seconds", type=float, default=3.0, help="stopped this long")
    ours, rest = parser.parse_known_args()
    if "-h" in rest or "--help" in rest:
        parser.print_help()
        print("\nquiz_load options:")
        quiz_load.parser().print_help()
        return 0
    version, _, name = (ours.cluster or f"{postgres_version()}/{DEFAULT_CLUSTER}").partition("/")
    started = ensure_cluster(version, name, ours.pg_port)
    url = f"postgres://postgres@127.0.0.1:{ours.pg_port}/bachsurvey_load"
    fault = Fault(version, name, ours.pg_port, ours.restart_at, ours.down_seconds)
    # A few seconds of /healthz first also warm the server up before the quiz phase is timed.
    argv = ["--database-url", url, "--trivial-seconds", "3", "--duration", "30", *rest]
    try:
        run, figures = quiz_load.main(argv, during=fault, postgres_restarts=True)
        return verdict(run, figures, fault)
    finally:
        if started:  # leave the cluster as it was found
            pg_ctl(version, name, "stop")


def verdict(run: quiz_load.Run, figures: dict, fault: Fault) -> int:
    if fault.ready is None or fault.stopping is None:
        print("PostgreSQL was not restarted: the quiz phase ended first (raise --duration)")
        return 1
    assert fault.stopped is not None and fault.starting is not None
    print(
        f"PostgreSQL: stop took {fault.stopped - fault.stopping:.1f} s, stopped "
        f"{fault.starting - fault.stopped:.1f} s, start until ready "
        f"{fault.ready - fault.starting:.1f} s"
    )
    # The outage as clients saw it: from the stop until a little after PostgreSQL was ready.
    begin, end = fault.stopping, fault.ready + 1.0
    during = [e for e in run.events if e.end >= begin and e.start <= end]
    failed = [e for e in run.events if e.status is None or e.status >= 500]
    by_kind: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for event in during:
        by_kind[event.kind][str(event.status) if event.status else event.error or "?"] += 1
    print(f"requests overlapping the outage ({end - begin:.1f} s):")
    for kind, statuses in by_kind.items():
        print(f"  {kind:<8} {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}")
    outside = [e for e in failed if not (e.end >= begin and e.start <= end)]
    no_retry_after = [e for e in failed if e.status == 503 and not e.retry_after]
    server_errors = [e for e in failed if e.status is not None and e.status != 503]
    no_reply = [e for e in failed if e.status is None]
    recovered = [e for e in run.events if e.start > fault.ready and e.status and e.status < 500]
    first_ok = min((e.end - fault.ready for e in recovered), default=float("nan"))
    print(
        f"failed requests in all: {len(failed)} (503: {sum(e.status == 503 for e in failed)}, "
        f"other 5xx: {len(server_errors)}, no reply: {len(no_reply)}); outside the outage: "
        f"{len(outside)}; 503 without Retry-After: {len(no_retry_after)}"
    )
    print(f"first successful request {first_ok:.2f} s after PostgreSQL was ready")
    slowest = sorted(run.events, key=lambda e: e.ms, reverse=True)[:5]
    print("slowest requests (start relative to the stop):")
    for e in slowest:
        print(f"  {e.kind:<8} {e.status or e.error}  {e.ms:7.0f} ms  at {e.start - begin:+6.1f} s")
    db = figures["database"] or {}
    problems = []
    if db.get("lost", 0) or db.get("duplicated", 0) or db.get("unexplained_rows", 0):
        problems.append("answers lost or duplicated")
    if server_errors:
        problems.append(f"{len(server_errors)} responses were 5xx other than 503")
    if no_retry_after:
        problems.append(f"{len(no_retry_after)} 503s without Retry-After")
    if no_reply:
        problems.append(f"{len(no_reply)} requests got no reply (connection refused or reset)")
    print("verdict:", "PASS" if not problems else "FAIL: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
