"""Many participants at once through the quiz's JSON API, against the production stack on loopback.

    .venv/bin/python benchmarks/load/quiz_load.py [--users 48] [--duration 30] [--clips range]

Starts the stack (benchmarks/load/serve.sh: gunicorn, DEBUG off, PostgreSQL database
bachsurvey_load, rate limits off) unless --url names one already running, then:

0. an untimed warm-up (--warmup seconds of GET /);
1. the trivial endpoint: every user requests GET /healthz (no database) for --trivial-seconds;
2. the quiz: every user plays participants one after another until --duration has passed (the
   participant in progress is finished) or --max-participants have started: GET / (the page and
   its CSRF cookie), POST /api/participants/, for each of the five questions its two clips
   (--clips: `range` asks for the first 64 KiB of each as a browser's first request does, `full`
   reads them whole, `none` skips them) and POST .../answers/, then GET the results as the page
   does at the end (--no-results skips it);
3. the database: the answers stored for the run's participants, counted in PostgreSQL against
   the 201s received (lost: a 201 without a row; duplicated: more than one row for a 201; stored
   despite an error reply: a row whose request got no 201, which a retry then found answered).

It prints requests per second, latency percentiles and statuses for each kind of request, the
ratio of the trivial endpoint's rate to the answers', and the CPU seconds the server, PostgreSQL
and this client used (the machine is shared: the load average is printed too). Users wait for no
one between requests ("think time" 0): this is a stress test, far denser than real listeners.

A 503 or a refused connection is retried after the server's Retry-After (at most --retries times),
as a patient client would; every attempt is counted. pg_restart.py runs the same load while it
restarts PostgreSQL.

Why asyncio + aiohttp and not locust: the server runs on the same 2 cores, and one asyncio
process with aiohttp's C parser plays a few hundred users on a fraction of one core, which leaves
the most CPU to the server being measured (locust spends much more per request, per user greenlet
and in its reporting). wrk would be lighter still, but cannot play the quiz's stateful flow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 8100
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bachsurvey_load"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
BACKGROUND = {"consent": True, "age_group": "26-45", "experience": "intermediate"}
RANGE_BYTES = 65_536
REQUEST_TIMEOUT_S = 15.0
KINDS = ("healthz", "page", "create", "clip", "answer", "results")


# --- what happened ------------------------------------------------------------------------------


@dataclass
class Event:
    """One HTTP attempt: its kind, when it started and ended (monotonic s), status or error."""

    kind: str
    start: float
    end: float
    status: int | None  # None: no reply (connection refused or reset, timeout)
    error: str | None = None
    retry_after: str | None = None

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class Run:
    events: list[Event] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    started: int = 0
    finished: int = 0
    acked: list[tuple[str, str]] = field(default_factory=list)  # (participant, question) 201s
    # Answers whose request got an error reply (or none), so they may be stored without a 201.
    unacked: set[tuple[str, str]] = field(default_factory=set)
    abandoned: Counter[str] = field(default_factory=Counter)  # participants given up, by reason
    phase_seconds: dict[str, float] = field(default_factory=dict)


class GiveUp(Exception):
    """A participant's flow cannot go on (a refusal, or retries used up)."""


# --- the client ---------------------------------------------------------------------------------


class Client:
    """HTTP against one server, recording every attempt; cookies are kept per participant."""

    def __init__(self, base: str, session: aiohttp.ClientSession, run: Run, retries: int) -> None:
        self.base = base.rstrip("/")
        self.session = session
        self.run = run
        self.retries = retries
        self.recording = True  # off while warming up

    async def once(
        self,
        kind: str,
        method: str,
        path: str,
        cookies: dict[str, str],
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        read: bool = True,
    ) -> tuple[int | None, bytes, Event]:
        sent = dict(headers or {})
        if cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if "csrftoken" in cookies and method == "POST":
            sent["X-CSRFToken"] = cookies["csrftoken"]
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        start = time.monotonic()
        try:
            async with self.session.request(
                method, self.base + path, data=data, headers=sent
            ) as response:
                content = await response.read()  # always all of it: the connection is reused
                if not read:
                    content = b""
                for name, morsel in response.cookies.items():
                    cookies[name] = morsel.value
                event = Event(
                    kind,
                    start,
                    time.monotonic(),
                    response.status,
                    retry_after=response.headers.get("Retry-After"),
                )
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            event = Event(kind, start, time.monotonic(), None, error=type(error).__name__)
            content = b""
        if self.recording:
            self.run.events.append(event)
        return event.status, content, event

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        cookies: dict[str, str],
        deadline: float,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        read: bool = True,
        on_retry: Callable[[], None] | None = None,
    ) -> tuple[int, bytes]:
        """One request, retried on 503 (after Retry-After) or no reply, while retries last."""
        for attempt in range(self.retries + 1):
            status, content, event = await self.once(
                kind, method, path, cookies, body=body, headers=headers, read=read
            )
            if status is not None and status != 503:
                return status, content
            if on_retry is not None:
                on_retry()
            if attempt == self.retries or time.monotonic() > deadline:
                break
            wait = 1.0
            if event.retry_after and event.retry_after.isdigit():
                wait = float(event.retry_after)
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))  # spread the retries
        raise GiveUp(f"{kind}: {'no reply' if status is None else status}")


async def play_participant(
    client: Client, clips: str, results: bool, deadline: float, rng: random.Random
) -> None:
    run = client.run
    cookies: dict[str, str] = {}
    status, _ = await client.call("page", "GET", "/", cookies, deadline)
    if status != 200 or "csrftoken" not in cookies:
        raise GiveUp(f"page: {status}")
    run.started += 1
    status, content = await client.call(
        "create", "POST", "/api/participants/", cookies, deadline, body=BACKGROUND
    )
    if status != 201:
        raise GiveUp(f"create: {status}")
    created = json.loads(content)
    participant = str(created["id"])
    run.participants.append(participant)
    for question in sorted(created["questions"], key=lambda q: q["position"]):
        for clip in question["clips"]:
            if clips == "range":
                status, _ = await client.call(
                    "clip", "GET", clip["audio_url"], cookies, deadline,
                    headers={"Range": f"bytes=0-{RANGE_BYTES - 1}"}, read=False,
                )  # fmt: skip
            elif clips == "full":
                status, _ = await client.call(
                    "clip", "GET", clip["audio_url"], cookies, deadline, read=False
                )
            if clips != "none" and status not in (200, 206):
                raise GiveUp(f"clip: {status}")
        key = (participant, str(question["id"]))
        body = {
            "question": question["id"],
            "choice": rng.choice("AB"),
            "response_ms": rng.randint(800, 9000),
            "elapsed_ms": rng.randint(20_000, 60_000),
            "plays": {"A": 1, "B": 1},
            "heard_fully": {"A": True, "B": True},
        }
        status, content = await client.call(
            "answer", "POST", f"/api/participants/{participant}/answers/", cookies, deadline,
            body=body, on_retry=lambda key=key: run.unacked.add(key),
        )  # fmt: skip
        if status == 201:
            run.acked.append(key)
        elif status == 409 and key in run.unacked:
            pass  # an earlier attempt was stored though its reply was an error: counted below
        else:
            run.unacked.add(key)
            raise GiveUp(f"answer: {status}")
    if results:
        path = f"/api/participants/{participant}/"
        status, _ = await client.call("results", "GET", path, cookies, deadline)
        if status != 200:
            raise GiveUp(f"results: {status}")
    run.finished += 1


async def user_loop(
    client: Client, args: argparse.Namespace, stop_at: float, budget: list[int], seed: int
) -> None:
    rng = random.Random(seed)
    # A stuck flow must not outlive the run by much: retries stop this long after the deadline.
    deadline = stop_at + 30
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        try:
            await play_participant(client, args.clips, args.results, deadline, rng)
        except GiveUp as reason:
            client.run.abandoned[str(reason)] += 1


async def trivial_loop(client: Client, stop_at: float, path: str = "/healthz") -> None:
    while time.monotonic() < stop_at:
        await client.once("healthz", "GET", path, {})


async def drive(
    args: argparse.Namespace, run: Run, during: Callable[[], Awaitable[None]] | None = None
) -> None:
    """The two phases; ``during`` (pg_restart.py's fault) runs alongside the quiz phase."""
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    # Cookies are handled by hand, per participant (a cookie jar per participant costs more).
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        client = Client(args.url, session, run, args.retries)
        # Untimed warm-up: a freshly started server's first requests (each thread's first
        # database connection, lazy imports) would otherwise land in the measured figures.
        client.recording = False
        stop_at = time.monotonic() + args.warmup
        await asyncio.gather(*(trivial_loop(client, stop_at, "/") for _ in range(args.users)))
        client.recording = True
        if args.trivial_seconds > 0:
            began = time.monotonic()
            stop_at = began + args.trivial_seconds
            await asyncio.gather(*(trivial_loop(client, stop_at) for _ in range(args.users)))
            run.phase_seconds["healthz"] = time.monotonic() - began
        began = time.monotonic()
        stop_at = began + args.duration
        budget = [args.max_participants]
        users = [user_loop(client, args, stop_at, budget, args.seed + i) for i in range(args.users)]
        tasks = [asyncio.ensure_future(u) for u in users]
        fault = asyncio.ensure_future(during()) if during is not None else None
        await asyncio.gather(*tasks)
        run.phase_seconds["quiz"] = time.monotonic() - began
        if fault is not None:
            await fault


# --- the server under test ----------------------------------------------------------------------


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        sys.exit(f"refusing to load {url}: this benchmark runs on loopback only")


def wait_for(url: str, seconds: float, server: subprocess.Popen | None) -> None:
    """Until GET url/healthz answers 200 (the server is up), or fail with the server's log."""
    import urllib.request

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server is not None and server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}; see {SERVER_LOG}")
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"{url} did not answer within {seconds:.0f} s; see {SERVER_LOG}")


SERVER_LOG = REPO / "var" / "load" / "server.log"


def start_server(port: int, database_url: str, env: dict[str, str]) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            sys.exit(f"port {port} is taken: stop what listens there, or pass --url")
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        **env,
    }
    log = SERVER_LOG.open("w")
    return subprocess.Popen(
        ["bash", str(REPO / "benchmarks" / "load" / "serve.sh")],
        cwd=REPO,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole at the end
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn: graceful stop of master and workers
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- CPU accounting (the machine is shared: say who used it) ------------------------------------


def _proc_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(name, parent pid, own CPU ticks, ticks of reaped children) of a process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is state (stat field 3): utime, stime, cutime, cstime are fields 14-17.
    return (
        name,
        int(fields[1]),
        int(fields[11]) + int(fields[12]),
        int(fields[13]) + int(fields[14]),
    )


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the server's process tree, of PostgreSQL, of this process, and the
    machine's busy and total seconds (all cores)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))) is not None:
            stats[int(entry)] = stat
    children: defaultdict[int, list[int]] = defaultdict(list)
    for pid, (_, parent, _, _) in stats.items():
        children[parent].append(pid)

    def tree(root: int) -> int:  # own and reaped children's ticks of root and all its descendants
        name, _, own, reaped = stats.get(root, ("", 0, 0, 0))
        return own + reaped + sum(tree(child) for child in children[root])

    server = tree(server_pid) if server_pid else 0
    postgres = sum(
        own + reaped
        for pid, (name, parent, own, reaped) in stats.items()
        if name == "postgres" and stats.get(parent, ("",))[0] != "postgres"  # the postmasters
    ) + sum(
        own
        for pid, (name, parent, own, _) in stats.items()
        if name == "postgres" and stats.get(parent, ("",))[0] == "postgres"  # their backends
    )
    mine = stats.get(os.getpid(), ("", 0, 0, 0))
    cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    return {
        "server": server / tick,
        "postgres": postgres / tick,
        "client": (mine[2] + mine[3]) / tick,
        "machine_busy": (sum(cpu) - idle) / tick,
        "machine_total": sum(cpu) / tick,
    }


# --- the database check -------------------------------------------------------------------------


def stored_answers(database_url: str, participants: list[str]) -> Counter[tuple[str, str]]:
    """Rows in the answer table for these participants, by (participant, question)."""
    import psycopg

    rows: Counter[tuple[str, str]] = Counter()
    with psycopg.connect(database_url) as connection:
        for chunk in range(0, len(participants), 5000):
            cursor = connection.execute(
                "SELECT a.participant_id::text, a.question_id::text"
                " FROM bachsurvey_answer s JOIN bachsurvey_assignment a ON s.assignment_id = a.id"
                " WHERE a.participant_id = ANY(%s::uuid[])",
                (participants[chunk : chunk + 5000],),
            )
            rows.update(cursor.fetchall())
    return rows


def integrity(run: Run, database_url: str) -> dict[str, int]:
    rows = stored_answers(database_url, run.participants)
    acked = Counter(run.acked)
    return {
        "201s": sum(acked.values()),
        "rows": sum(rows.values()),
        "lost": sum(1 for key in acked if rows[key] == 0),
        "duplicated": sum(max(rows[key] - 1, 0) for key in rows)
        + sum(max(n - 1, 0) for n in acked.values()),
        "stored_despite_error_reply": sum(1 for key in rows if key not in acked),
        "unexplained_rows": sum(1 for key in rows if key not in acked and key not in run.unacked),
    }


# --- the report ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


def summary(events: list[Event], seconds: float) -> dict[str, Any]:
    ok = [e.ms for e in events if e.status is not None and e.status < 500]
    statuses = Counter(str(e.status) if e.status is not None else e.error for e in events)
    result: dict[str, Any] = {
        "requests": len(events),
        "per_s": len(events) / seconds if seconds else 0.0,
        "statuses": dict(sorted(statuses.items())),
    }
    if ok:
        result["ms"] = {
            "p50": percentile(ok, 50),
            "p90": percentile(ok, 90),
            "p99": percentile(ok, 99),
            "max": max(ok),
        }
    return result


def report(
    run: Run,
    checked: dict[str, int] | None,
    cpu: dict[str, float | None],
    args: argparse.Namespace,
) -> dict[str, Any]:
    by_kind: defaultdict[str, list[Event]] = defaultdict(list)
    for event in run.events:
        by_kind[event.kind].append(event)
    figures: dict[str, Any] = {"kinds": {}}
    for kind in KINDS:
        if by_kind[kind]:
            seconds = run.phase_seconds["healthz" if kind == "healthz" else "quiz"]
            figures["kinds"][kind] = summary(by_kind[kind], seconds)
    answers_201 = sum(1 for e in by_kind["answer"] if e.status == 201)
    quiz_s = run.phase_seconds.get("quiz", 0.0)
    figures["answers_201_per_s"] = answers_201 / quiz_s if quiz_s else 0.0
    figures["participants"] = {
        "started": run.started,
        "finished": run.finished,
        "abandoned": dict(run.abandoned),
    }
    figures["database"] = checked
    figures["cpu_s"] = cpu
    figures["phase_s"] = run.phase_seconds
    return figures


def print_report(figures: dict[str, Any], args: argparse.Namespace, load: tuple[str, str]) -> None:
    out = print
    out(f"machine: {os.cpu_count()} CPUs; load average before {load[0]}, after {load[1]}")
    out(
        f"run: {args.users} users, clips={args.clips}, results={'on' if args.results else 'off'}, "
        f"quiz {figures['phase_s'].get('quiz', 0):.1f} s, "
        f"trivial endpoint {figures['phase_s'].get('healthz', 0):.1f} s"
    )
    out(f"{'request':<9}{'count':>8}{'per s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}  statuses")  # fmt: skip
    for kind, row in figures["kinds"].items():
        ms = row.get("ms", {})
        cells = "".join(f"{ms.get(k, float('nan')):>9.1f}" for k in ("p50", "p90", "p99", "max"))
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        out(f"{kind:<9}{row['requests']:>8}{row['per_s']:>9.1f}{cells}  {statuses}")
    answers = figures["answers_201_per_s"]
    out(f"answers stored (201) per second: {answers:.1f}")
    trivial = figures["kinds"].get("healthz")
    if trivial and answers:
        out(f"trivial endpoint / answers: {trivial['per_s'] / answers:.1f} x")
    p = figures["participants"]
    out(f"participants: {p['started']} started, {p['finished']} finished, abandoned: "
        f"{p['abandoned'] or 'none'}")  # fmt: skip
    db = figures["database"]
    if db is not None:
        out(
            f"database: {db['201s']} answers acknowledged (201), {db['rows']} rows for the run's "
            f"participants; lost {db['lost']}, duplicated {db['duplicated']}, stored despite an "
            f"error reply {db['stored_despite_error_reply']} (unexplained {db['unexplained_rows']})"
        )
    cpu = figures["cpu_s"]
    out(
        f"CPU seconds during the run: server {cpu['server']:.1f}, PostgreSQL "
        f"{'n/a (restarted)' if cpu['postgres'] is None else format(cpu['postgres'], '.1f')}, "
        f"this client {cpu['client']:.1f}, "
        f"whole machine {cpu['machine_busy']:.1f} busy of {cpu['machine_total']:.1f}"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="a server already running (loopback only); default: start one")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="for the server started here")
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    p.add_argument("--users", type=int, default=48, help="simulated participants at once")
    p.add_argument("--duration", type=float, default=30.0, help="seconds of quiz load")
    p.add_argument("--warmup", type=float, default=3.0, help="untimed seconds of GET / first")
    p.add_argument("--trivial-seconds", type=float, default=10.0, help="seconds of GET /healthz")
    p.add_argument("--max-participants", type=int, default=20_000, help="a bound on the run")
    p.add_argument("--clips", choices=["range", "full", "none"], default="range")
    p.add_argument("--no-results", dest="results", action="store_false", help="skip the last GET")
    p.add_argument("--retries", type=int, default=3, help="per request, on 503 or no reply")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the figures here")
    return p


def main(
    argv: list[str] | None = None,
    *,
    during: Callable[[], Awaitable[None]] | None = None,
    server_env: dict[str, str] | None = None,
    postgres_restarts: bool = False,
) -> tuple[Run, dict[str, Any]]:
    args = parser().parse_args(argv)
    if min(args.users, args.max_participants) < 1 or args.duration <= 0 or args.duration > 600:
        sys.exit("--users and --max-participants must be positive, --duration within 600 s")
    server = None
    if args.url is None:
        args.url = f"http://127.0.0.1:{args.port}"
        server = start_server(args.port, args.database_url, server_env or {})
    check_loopback(args.url)
    try:
        wait_for(args.url, 180, server)
        load_before = loadavg()
        before = cpu_seconds(server.pid if server else None)
        run = Run()
        asyncio.run(drive(args, run, during))
        after = cpu_seconds(server.pid if server else None)
        load_after = loadavg()
    finally:
        if server is not None:
            stop_server(server)
    checked = integrity(run, args.database_url) if run.participants else None
    cpu: dict[str, float | None] = {key: after[key] - before[key] for key in after}
    if postgres_restarts:  # its processes are new ones: their CPU before the run is unknown
        cpu["postgres"] = None
    figures = report(run, checked, cpu, args)
    print_report(figures, args, (load_before, load_after))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return run, figures


if __name__ == "__main__":
    main()
