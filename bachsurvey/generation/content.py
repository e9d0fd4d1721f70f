"""Survey content stored: media files, clips and questions, each checked as it is added (by
generation batches through bachsurvey.generation.pieces, and by seed_demo).

A refusal is InvalidContent: a clip outside its chorale or without its audio file, a question
whose two clips would give the answer away (two real ones, lengths that differ, a mask that is
not the category's).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from bachsurvey.models import Chorale, Clip, Question
from composer.paths import opaque_name  # names only: no music21 or torch


class InvalidContent(Exception):
    """Content that breaks a rule of the survey; the message says which."""


def store_media(source: Path, folder: str, name: str | None = None) -> str:
    """Copy ``source`` to MEDIA_ROOT/folder/ under ``name`` (default: a fresh opaque name).

    Returns the storage name. An existing file of the same size is left alone (re-seeding).
    """
    name = f"{folder}/{name or opaque_name(source.suffix)}"
    target = Path(settings.MEDIA_ROOT) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return name


def add_clip(
    *,
    chorale: Chorale,
    frame_start: int,
    frame_end: int,
    audio: str,
    score: str,
    duration_s: float,
    transpose: int = 0,
) -> Clip:
    """A clip whose audio and score are already stored (names relative to MEDIA_ROOT).

    The audio file's size and hash are read now: the server counts the bytes it sends of a clip
    against its size, and the hash finds identical audio behind two questions.
    """
    if not 0 <= frame_start < frame_end <= chorale.frames:
        raise InvalidContent(f"bad frame span {frame_start}..{frame_end}")
    path = Path(settings.MEDIA_ROOT) / audio
    if not path.is_file():
        raise InvalidContent(f"audio file {audio} is not in MEDIA_ROOT")
    data = path.read_bytes()
    return Clip.objects.create(
        chorale=chorale,
        frame_start=frame_start,
        frame_end=frame_end,
        audio=audio,
        score=score,
        duration_s=duration_s,
        transpose=transpose,
        audio_bytes=len(data),
        audio_sha256=hashlib.sha256(data).hexdigest(),
    )


def add_question(
    *, category: str, clip_real: Clip, clip_generated: Clip, live: bool = False
) -> Question:
    """A question, checked: one real and one generated clip of equal length, matching mask."""
    if not clip_real.is_real or clip_generated.is_real:
        raise InvalidContent("a question pairs one real clip with one generated clip")
    if clip_real.frames != clip_generated.frames:
        raise InvalidContent(
            f"clips differ in length ({clip_real.frames} and {clip_generated.frames} frames); "
            "a length difference would give the answer away"
        )
    if clip_generated.chorale.mask != category:
        raise InvalidContent(
            f"a {category} question needs a chorale generated with mask {category}, "
            f"not {clip_generated.chorale.mask}"
        )
    status = Question.Status.APPROVED if live else Question.Status.DRAFT
    return Question.objects.create(
        category=category,
        clip_real=clip_real,
        clip_generated=clip_generated,
        status=status,
        live=live,
    )


def retire_questions(questions: Iterable[Question]) -> int:
    """Take questions off the quiz; they stay for the answers already given to them."""
    return Question.objects.filter(pk__in=[q.pk for q in questions]).update(live=False)
