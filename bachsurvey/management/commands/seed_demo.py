"""Load the demo quiz from fixtures/demo/ (see build_demo_fixtures): idempotent, no torch needed.

The demo's rows form one Batch named after the manifest's hash. Running again with the same
manifest changes nothing (beyond restoring media files that went missing); a rebuilt manifest is
loaded as a new batch and the older demo questions are taken off the quiz (kept, since answers
may refer to them). Its questions go live through the same approval as any batch's
(bachsurvey.generation.validity): one that would share audio or a Bach excerpt with a live
question stops the load, names the clash and leaves the database as it was.

The demo's files keep their committed (random) names. They are public in the repository along
with the manifest, so the demo cannot hide which clip is Bach from someone who reads the source;
the real experiment serves clips rendered by generation batches under fresh names. Participants
never see a file name either way (bachsurvey.quiz.clip_urls).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from bachsurvey.generation import content, music, review
from bachsurvey.management.commands.build_demo_fixtures import DEMO_DIR, MANIFEST_VERSION
from bachsurvey.models import Batch, Chorale, Clip, Question

BATCH_PREFIX = "demo "


class Command(BaseCommand):
    help = "Load the demo chorales, clips and live questions from fixtures/demo/ (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fixtures", type=Path, default=DEMO_DIR, help="a fixture folder")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["fixtures"]
        try:
            batch, created = load_demo(directory)
        except (content.InvalidContent, ValidityError) as error:  # a manifest that breaks a rule
            raise CommandError(f"{directory}: {error}") from error
        questions = Question.objects.filter(clip_generated__chorale__batch=batch)
        live = questions.filter(live=True).count()
        verb = "loaded" if created else "already loaded"
        self.stdout.write(f"{verb}: batch {batch.name!r}, {live} live questions")


class ValidityError(Exception):
    """The demo's questions cannot go live: they break a validity rule."""


def read_manifest(directory: Path) -> tuple[dict[str, Any], str]:
    path = directory / "manifest.json"
    if not path.is_file():
        raise CommandError(f"{path} not found: run `python manage.py build_demo_fixtures`")
    raw = path.read_bytes()
    manifest = json.loads(raw)
    if manifest.get("version") != MANIFEST_VERSION:
        raise CommandError(
            f"{path} is version {manifest.get('version')}, not {MANIFEST_VERSION}: rebuild it "
            "with `python manage.py build_demo_fixtures`"
        )
    return manifest, hashlib.sha256(raw).hexdigest()[:12]


def load_demo(directory: Path) -> tuple[Batch, bool]:
    """Copy the media into MEDIA_ROOT and create the rows once; returns (batch, created)."""
    manifest, fingerprint = read_manifest(directory)
    for clip in manifest["clips"]:
        for field in ("audio", "score"):
            folder, name = clip[field].split("/", 1)
            content.store_media(directory / clip[field], folder, name)
    name = BATCH_PREFIX + fingerprint
    existing = Batch.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        # A fixture batch: loaded whole, so done (its questions may be served).
        batch = Batch.objects.create(name=name, note=manifest["note"], status=Batch.Status.DONE)
        older = Question.objects.filter(
            clip_generated__chorale__batch__name__startswith=BATCH_PREFIX, live=True
        ).exclude(clip_generated__chorale__batch=batch)
        content.retire_questions(older)
        chorales = {
            entry["key"]: Chorale.objects.create(
                batch=batch,
                kind=entry["kind"],
                tokens=entry["tokens"],
                frames=entry["frames"],
                source=entry["source"],
                title=music.chorale_title(entry["source"]),
                mask=entry["mask"],
                checkpoint=entry["checkpoint"],
                temperature=entry["temperature"],
                seed=entry["seed"],
                note=entry["note"],
                style=entry.get("style"),
            )
            for entry in manifest["chorales"]
        }
        clips: dict[str, Clip] = {
            entry["key"]: content.add_clip(
                chorale=chorales[entry["chorale"]],
                frame_start=entry["frame_start"],
                frame_end=entry["frame_end"],
                audio=entry["audio"],
                score=entry["score"],
                duration_s=entry["duration_s"],
                transpose=entry["transpose"],
            )
            for entry in manifest["clips"]
        }
        questions = [
            content.add_question(
                category=entry["category"],
                clip_real=clips[entry["real"]],
                clip_generated=clips[entry["generated"]],
            )
            for entry in manifest["questions"]
        ]
        approval = review.approve(Question.objects.filter(pk__in=[q.pk for q in questions]))
        if approval.messages():
            raise ValidityError("; ".join(approval.messages()))  # rolls the whole load back
    return batch, True
