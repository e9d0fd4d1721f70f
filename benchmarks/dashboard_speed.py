"""Time of the researchers' dashboard (/research/) at 100,000 answers: the first load (cold: read
every answer, fit the mixed model, draw the plots) and the loads after it, when nothing has
changed (warm: the figures come from the cache, keyed on a fingerprint of the answers).

Creates a throwaway PostgreSQL database (bachsurvey_dash_bench by default), migrates it, stores
--answers answers with bulk_create (five per finished participant, over 30 days, from three
batches with their own checkpoints and temperatures), plus unfinished and withdrawn
participants, then loads the page through the whole Django stack (test client, session login,
middleware, template) and drops the database. The cache is --cache-url's (Redis, as in
production with CACHE_URL) or local memory.

    .venv/bin/python benchmarks/dashboard_speed.py [--answers 100000] [--warm 5]
        [--cache-url redis://127.0.0.1:6379/9] [--keep]
        [--database-url postgres://postgres@127.0.0.1:5432/bachsurvey_dash_bench]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.export_stream import admin_connection, fresh_django  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bachsurvey_dash_bench"
EXPERIENCES = ("novice", "intermediate", "advanced", "expert")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAYS = 30


def questions() -> list:  # type: ignore[type-arg]
    from bachsurvey.models import Batch, Chorale, Clip, Question
    from composer.voices import CATEGORIES

    out = []
    batches = [
        Batch.objects.create(name=f"bench {t}", checkpoint=f"runs/bench/{t}.pt", temperature=t)
        for t in (0.6, 0.8, 1.0)
    ]
    for number, category in enumerate(CATEGORIES * 6):
        batch = batches[number % 3]
        chorales = [
            Chorale.objects.create(kind="real", tokens=[], frames=64, source=f"bwv{number}.6"),
            Chorale.objects.create(
                kind="generated", tokens=[], frames=64, mask=category, batch=batch,
                checkpoint=batch.checkpoint, temperature=batch.temperature, seed=number,
            ),
        ]  # fmt: skip
        clips = [
            Clip.objects.create(chorale=c, frame_end=64, audio="a.mp3", score="s.svg", duration_s=8)
            for c in chorales
        ]
        out.append(
            Question.objects.create(category=category, clip_real=clips[0], clip_generated=clips[1])
        )
    return out


def seed(answers: int) -> None:
    """``answers`` answers of finished participants, and 10% more participants who stopped
    part-way or withdrew (their answers deleted, as withdrawing does)."""
    from bachsurvey.models import Answer, Assignment, Participant

    rng = random.Random(0)
    pool = questions()
    people = answers // 5
    step = 1000
    for start in range(0, people, step):
        count = min(step, people - start)
        participants = Participant.objects.bulk_create(
            Participant(
                id=uuid.UUID(int=rng.getrandbits(128)), consented_at=START, age_group="26-45",
                experience=rng.choice(EXPERIENCES), finished_at=START,
            )
            for _ in range(count)
        )  # fmt: skip
        assignments = Assignment.objects.bulk_create(
            Assignment(participant=p, question=q, position=i, bach_side=rng.choice("AB"))
            for p in participants
            for i, q in enumerate(rng.sample(pool, 5))
        )
        Answer.objects.bulk_create(
            Answer(
                assignment=a, choice=rng.choice("AB"), correct=rng.random() < 0.6,
                response_ms=rng.randint(500, 30000), elapsed_ms=rng.randint(10000, 60000),
                plays={"A": 1, "B": 1}, heard_fully={"A": True, "B": rng.random() > 0.05},
                served={"A": 1.0, "B": 1.0}, server_elapsed_ms=rng.randint(10000, 60000),
            )
            for a in assignments
        )  # fmt: skip
    stopped = Participant.objects.bulk_create(
        Participant(consented_at=START, age_group="18-25", experience=rng.choice(EXPERIENCES))
        for _ in range(people // 10)
    )
    Participant.objects.filter(pk__in=[p.pk for p in stopped[::4]]).update(withdrawn_at=START)
    # Spread the answers and the starts over DAYS days; a few are still answering, just started.
    from django.db import connection

    with connection.cursor() as cursor:
        for table, column in (("answer", "id"), ("participant", "hashtext(id::text)")):
            cursor.execute(
                f"UPDATE bachsurvey_{table} SET created_at = "
                f"%s + (abs({column}) %% %s) * interval '1 day'",
                [START, DAYS],
            )
    Participant.objects.filter(pk__in=[p.pk for p in stopped[1::40]]).update(
        created_at=datetime.now(UTC)
    )


def timed(client, url: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - start
    assert response.status_code == 200, (response.status_code, response.content[:300])
    return seconds


def measure(client, url: str, warm: int) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    cold = timed(client, url)
    return cold, [timed(client, url) for _ in range(warm)]


def report(label: str, cold: float, warm: list[float]) -> None:
    print(
        f"{label}: cold {cold:.2f} s; warm median {statistics.median(warm):.3f} s, "
        f"max {max(warm):.3f} s over {len(warm)} loads"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--warm", type=int, default=5, help="warm loads timed after the cold one")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cache-url", default="locmem://", help="CACHE_URL for the run")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()

    admin, name = admin_connection(args.database_url)
    try:
        fresh_django(args.database_url, CACHE_URL=args.cache_url)
        from django.contrib.auth import get_user_model
        from django.core.cache import cache
        from django.test import Client

        from bachsurvey.models import Answer
        from bachsurvey.research import role

        start = time.perf_counter()
        seed(args.answers)
        print(f"stored {Answer.objects.count():,} answers in {time.perf_counter() - start:.1f} s")
        cache.clear()
        user = get_user_model().objects.create_user("bench")
        user.groups.add(role.researcher_group())
        client = Client()
        client.force_login(user)

        report("dashboard", *measure(client, "/research/", args.warm))
        last = Answer.objects.order_by("-pk").first()
        Answer.objects.filter(pk=last.pk).delete()  # a withdrawal's deletion: a new state
        report("after one answer deleted", *measure(client, "/research/", args.warm))
        until = (START + timedelta(days=DAYS // 2)).date().isoformat()
        report(f"dashboard to {until}", *measure(client, f"/research/?date_to={until}", args.warm))
        url = "/research/plots/response.png"
        report("response-time plot as PNG", *measure(client, url, args.warm))
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
