"""Build fixtures/demo/, the demo quiz, with the batch pipeline and the shipped defaults.

The site must be playable from a fresh clone without torch work, so the demo is built once with
this command and committed (a manifest, MP3s and SVGs); `seed_demo` only loads it.

    python manage.py build_demo_fixtures             # about two minutes on a 2-core CPU

It makes the demo exactly as an admin makes a study (issue 16, rule 8): generation batches run
by bachsurvey.generation.batches with the shipped checkpoints (GENERATION_CHECKPOINT for free
composition, HARMONIZATION_CHECKPOINT for harmonization) and the batches' defaults, their
questions approved under the validity rules and audited; then it writes what they stored into
the manifest.
Questions: two of every single voice, two AT, two ATB and four free compositions, each with a
Bach excerpt of its own.

It builds in a scratch SQLite database of its own (a child process of this command), so that the
result depends on the seed alone, not on what a site's database holds, and that database is left
as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings

from bachsurvey.generation import audit, batches, jobs, music, review
from bachsurvey.models import Batch, Clip, Question
from composer.voices import MASKS

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
# Batches of the demo: (mode, voices, count).
PLAN = [("harmonize", voices, 2) for voices in MASKS]
PLAN.append(("free", "SATB", 4))
MANIFEST_VERSION = 2


class Rollback(Exception):
    """Raised at the end of a build to undo its rows once the manifest is written."""


class Command(BaseCommand):
    help = "Render the demo quiz into fixtures/demo/ through the batch pipeline (shipped defaults)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=DEMO_DIR)
        parser.add_argument("--seed", type=int, default=2016, help="each batch's seed derives")
        parser.add_argument("--frames", type=int, default=64, help="longest clip, in sixteenths")
        parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["here"]:
            build_in_scratch_database(options)
            return
        out: Path = options["out"]
        staging = out.with_name(f".{out.name}.building")
        shutil.rmtree(staging, ignore_errors=True)
        media = staging / "media"
        try:
            with override_settings(MEDIA_ROOT=media):
                manifest = self.build(options, staging)
            (staging / "manifest.json").write_text(dump_manifest(manifest))
            shutil.rmtree(media)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        self.stdout.write(
            f"wrote {out}: {len(manifest['questions'])} questions, "
            f"{len(manifest['clips'])} clips, {size / 1e6:.1f} MB"
        )

    def build(self, options: dict[str, Any], staging: Path) -> dict[str, Any]:
        """Run the batches, approve and audit their questions, and describe them; every row is
        rolled back afterwards (the files stay in ``staging``)."""
        manifest: dict[str, Any] = {}
        try:
            with transaction.atomic():
                questions = [self.run(mode, voices, count, options)
                             for mode, voices, count in PLAN]  # fmt: skip
                every = Question.objects.filter(pk__in=[q for batch in questions for q in batch])
                approval = review.approve(every)
                if approval.messages():
                    raise CommandError("; ".join(approval.messages()))
                report = audit.audit(list(every.order_by("created_at", "pk")))
                for line in audit.describe(report):
                    self.stdout.write(f"audit: {line}")
                if report["broken"]:
                    raise CommandError(
                        "the demo breaks a validity rule: " + "; ".join(report["broken"])
                    )
                manifest.update(describe(every, staging, options))
                raise Rollback
        except Rollback:
            pass
        return manifest

    def run(self, mode: str, voices: str, count: int, options: dict[str, Any]) -> list[Any]:
        seed = music.derive_seed(options["seed"], "demo", mode, voices) % 2**31
        batch = jobs.prepare(
            Batch(mode=mode, voices=voices, count=count, seed=seed, frames=options["frames"])
        )
        batch.save()
        self.stdout.write(f"{batch.name}: {batch.checkpoint}")
        batch = batches.run_batch(batch.pk)
        if batch is None or batch.status != Batch.Status.DONE:
            raise CommandError(f"batch {mode} {voices} failed: {batch and batch.error}")
        return list(
            Question.objects.filter(clip_generated__chorale__batch=batch).values_list(
                "pk", flat=True
            )
        )


def build_in_scratch_database(options: dict[str, Any]) -> None:
    """Run this command with --here in a child process on an empty, migrated SQLite database,
    with Celery tasks in-process."""
    with tempfile.TemporaryDirectory(prefix="demo-db-") as scratch:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3"}
        env.pop("CELERY_BROKER_URL", None)
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        build = ["build_demo_fixtures", "--here", "--out", str(options["out"].resolve()),
                 "--seed", str(options["seed"]), "--frames", str(options["frames"])]  # fmt: skip
        for command in (["migrate", "-v", "0"], build):
            if subprocess.run([*manage, *command], env=env).returncode:
                raise CommandError(f"{' '.join(command)} failed in the scratch database")


def describe(questions: Any, staging: Path, options: dict[str, Any]) -> dict[str, Any]:
    """The manifest: chorales, clips (in the order they were stored, which the pipeline draws
    per piece), questions; the clips' files are copied into ``staging``."""
    clip_ids = {pk for q in questions for pk in (q.clip_real_id, q.clip_generated_id)}
    clips = list(Clip.objects.filter(pk__in=clip_ids).select_related("chorale").order_by("pk"))
    chorale_keys: dict[int, str] = {}
    chorales, clip_entries = [], []
    for clip in clips:
        chorale = clip.chorale
        if chorale.pk not in chorale_keys:
            chorale_keys[chorale.pk] = f"chorale-{len(chorale_keys) + 1}"
            chorales.append(
                {
                    "key": chorale_keys[chorale.pk],
                    "kind": chorale.kind,
                    "frames": chorale.frames,
                    "source": chorale.source,
                    "mask": chorale.mask,
                    "checkpoint": chorale.checkpoint,
                    "note": chorale.note,
                    "temperature": chorale.temperature,
                    "seed": chorale.seed,
                    "style": chorale.style,
                    "tokens": chorale.tokens,
                }
            )
        for field in (clip.audio, clip.score):
            target = staging / field.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(settings.MEDIA_ROOT) / field.name, target)
        clip_entries.append(
            {
                "key": f"clip-{clip.pk}",
                "chorale": chorale_keys[chorale.pk],
                "frame_start": clip.frame_start,
                "frame_end": clip.frame_end,
                "transpose": clip.transpose,
                "audio": clip.audio.name,
                "score": clip.score.name,
                "duration_s": clip.duration_s,
            }
        )
    ordered = questions.order_by("created_at", "pk")
    return {
        "version": MANIFEST_VERSION,
        "note": "built by the batch pipeline: "
        + ", ".join(sorted({c["checkpoint"] for c in chorales if c["checkpoint"]})),
        "frames": options["frames"],
        "seed": options["seed"],
        "chorales": chorales,
        "clips": clip_entries,
        "questions": [
            {
                "category": q.category,
                "real": f"clip-{q.clip_real_id}",
                "generated": f"clip-{q.clip_generated_id}",
            }  # fmt: skip
            for q in ordered
        ],
    }


def dump_manifest(manifest: dict[str, Any]) -> str:
    """JSON with one line per chorale, clip and question: readable diffs, no token-per-line."""
    lists = ("chorales", "clips", "questions")
    head = json.dumps({k: v for k, v in manifest.items() if k not in lists}, indent=1)
    blocks = [
        f' "{name}": [\n' + ",\n".join("  " + json.dumps(item) for item in manifest[name]) + "\n ]"
        for name in lists
    ]
    return head[:-2] + ",\n" + ",\n".join(blocks) + "\n}\n"
