"""Time and memory of the streamed CSV export (GET /api/results/answers.csv) of many answers.

Creates a throwaway PostgreSQL database (bachsurvey_bench by default), migrates it, stores
--answers answers with bulk_create (five per participant), then reads the export through the
whole Django stack (test client, token auth, StreamingHttpResponse) and drops the database.

It prints the time of a plain pass, then a pass under tracemalloc that reports the Python heap
after every tenth of the rows: a streamed export keeps it flat, however many rows have gone by.
For contrast, the last line is the peak of building the same rows as one list (what a
non-streamed export would hold at once).

    .venv/bin/python benchmarks/export_stream.py [--answers 100000] [--keep]
        [--database-url postgres://postgres@127.0.0.1:5432/bachsurvey_bench]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bachsurvey_bench"
EXPERIENCES = ("novice", "intermediate", "advanced", "expert")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mb() -> float:
    """Resident memory now (Linux), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def admin_connection(url: str):  # type: ignore[no-untyped-def]
    """An autocommit connection to the server's maintenance database, and the bench db's name."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing an odd database name: {name!r}")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    return psycopg.connect(admin, autocommit=True), name


def fresh_django(database_url: str, **env: str) -> None:
    """Drop and create the bench database, point Django at it (production-like settings plus
    ``env``), set Django up and migrate: what each database benchmark starts from."""
    admin, name = admin_connection(database_url)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bachsurvey.settings",
        DJANGO_DEBUG="0",  # no query log in memory
        DJANGO_HTTPS="0",  # the test client speaks plain HTTP: no redirect to https://
        DJANGO_SECRET_KEY="benchmark-only",
        DJANGO_ALLOWED_HOSTS="testserver",
        **env,
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(answers: int) -> None:
    from bachsurvey.models import Answer, Assignment, Chorale, Clip, Participant, Question
    from composer.voices import CATEGORIES

    rng = random.Random(0)
    questions = []
    for number, category in enumerate(CATEGORIES * 4):
        chorales = [
            Chorale.objects.create(kind="real", tokens=[], frames=64, source=f"bwv{number}.6"),
            Chorale.objects.create(
                kind="generated", tokens=[], frames=64, mask=category, checkpoint="bench.pt",
                temperature=0.8, seed=number,
            ),
        ]  # fmt: skip
        clips = [
            Clip.objects.create(chorale=c, frame_end=64, audio="a.mp3", score="s.svg", duration_s=8)
            for c in chorales
        ]
        questions.append(
            Question.objects.create(category=category, clip_real=clips[0], clip_generated=clips[1])
        )
    batch = 5000
    people = answers // 5
    for start in range(0, people, batch // 5):
        count = min(batch // 5, people - start)
        participants = Participant.objects.bulk_create(
            Participant(
                id=uuid.UUID(int=rng.getrandbits(128)),
                consented_at="2026-03-01T10:00:00Z",
                age_group="26-45",
                experience=rng.choice(EXPERIENCES),
            )
            for _ in range(count)
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(participant=p, question=q, position=i, bach_side=rng.choice("AB"))
            for p in participants
            for i, q in enumerate(rng.sample(questions, 5))
        )
        Answer.objects.bulk_create(
            Answer(
                assignment=a, choice=rng.choice("AB"), correct=rng.random() < 0.6,
                response_ms=rng.randint(500, 30000), elapsed_ms=rng.randint(10000, 60000),
                plays={"A": 1, "B": 1}, heard_fully={"A": True, "B": True},
            )
            for a in assignments
        )  # fmt: skip


def stream(client, token: str, checkpoints: int = 10):  # type: ignore[no-untyped-def]
    """Read the CSV export; after every 1/N of the rows note the resident memory and, when
    tracemalloc runs, the Python heap (now, and its peak since the last note)."""
    response = client.get("/api/results/answers.csv", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200, response.status_code
    rows = size = 0
    marks = []
    step = max(1, int(os.environ["BENCH_ANSWERS"]) // checkpoints)
    next_mark = step
    for piece in response.streaming_content:
        size += len(piece)
        rows += piece.count(b"\n")
        if rows - 1 >= next_mark:
            current, peak = tracemalloc.get_traced_memory()  # zeros when not tracing
            marks.append((rows - 1, rss_mb(), current / 2**20, peak / 2**20))
            tracemalloc.reset_peak()
            next_mark += step
    return rows - 1, size, marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    admin, name = admin_connection(args.database_url)
    try:
        fresh_django(args.database_url, BENCH_ANSWERS=str(args.answers))
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from bachsurvey.models import Answer
        from bachsurvey.research import exports, role

        start = time.perf_counter()
        seed(args.answers)
        print(f"stored {Answer.objects.count():,} answers in {time.perf_counter() - start:.1f} s")
        user = get_user_model().objects.create_user("bench")
        user.groups.add(role.researcher_group())
        token = Token.objects.create(user=user).key
        client = Client()

        rss_before = rss_mb()
        start = time.perf_counter()
        rows, size, marks = stream(client, token)
        seconds = time.perf_counter() - start
        print(
            f"streamed CSV: {rows:,} rows, {size / 2**20:.1f} MiB in {seconds:.1f} s "
            f"({rows / seconds:,.0f} rows/s); RSS before {rss_before:.0f} MiB, during "
            + ", ".join(f"{rss:.0f}" for _, rss, _, _ in marks)
            + f" MiB (process peak {peak_rss_mb():.0f})"
        )

        tracemalloc.start()
        rows, _, marks = stream(client, token)
        print("again under tracemalloc (slower), MiB:")
        print(f"{'rows sent':>12} {'RSS':>7} {'Python heap':>12} {'heap peak since last':>21}")
        for sent, rss, current, peak in marks:
            print(f"{sent:>12,} {rss:>7.0f} {current:>12.1f} {peak:>21.1f}")
        tracemalloc.reset_peak()
        rows_at_once = list(exports.export_rows())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"for contrast, all {len(rows_at_once):,} rows as one list: peak {peak / 2**20:.1f} MiB"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {name}")
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
