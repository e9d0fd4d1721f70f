"""Storing generated and real material: chorale rows, clips rendered into MEDIA_ROOT, questions.

A piece of a generation batch (its generated chorale, both clips and its question) is stored in
one transaction under the unique (batch, index) constraint. When an earlier or concurrent run
stored that index already, the transaction rolls back, the freshly rendered files are removed
and the index counts as done: nothing is ever stored twice.

Real chorales are one shared row per corpus id (no batch): import_chorales renders each whole,
and every question cuts its own excerpt of one, as long as the generated clip it is paired with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from bachsurvey import generation, services
from bachsurvey.generation import RenderedClip
from bachsurvey.models import Batch, Chorale, Clip


@dataclass(frozen=True)
class Piece:
    """One index of a batch, ready to render: a generated excerpt and the real one it faces."""

    index: int
    source: str  # corpus id of the real side
    real_tokens: list[str]  # the whole real chorale
    real_excerpt: Any  # its excerpt (a score)
    tokens: list[str]  # the generated chorale as stored (free: whole; harmonized: the excerpt)
    excerpt: Any  # the generated excerpt (a score or tokens)
    frames: int  # both excerpts' length
    note: str


def media_dirs() -> tuple[Path, Path]:
    root = Path(settings.MEDIA_ROOT)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    (root / "scores").mkdir(parents=True, exist_ok=True)
    return root / "clips", root / "scores"


def render(source: Any, frames: int) -> RenderedClip:
    return generation.render_clip(source, frames, *media_dirs())


def discard(rendered: list[RenderedClip]) -> None:
    for clip in rendered:
        clip.audio.unlink(missing_ok=True)
        clip.score.unlink(missing_ok=True)


def clip_row(chorale: Chorale, rendered: RenderedClip) -> Clip:
    root = Path(settings.MEDIA_ROOT)
    return services.add_clip(
        chorale=chorale,
        frame_start=0,
        frame_end=rendered.frames,
        audio=rendered.audio.relative_to(root).as_posix(),
        score=rendered.score.relative_to(root).as_posix(),
        duration_s=rendered.duration_s,
    )


def real_chorale(source: str, tokens: list[str]) -> Chorale:
    """The shared row of corpus chorale ``source`` (created on first use, safe under races)."""
    chorale, _ = Chorale.objects.get_or_create(
        kind=Chorale.Kind.REAL,
        batch=None,
        source=source,
        defaults={"tokens": tokens, "frames": generation.frames_of(tokens)},
    )
    return chorale


def is_stored(batch: Batch, index: int) -> bool:
    return Chorale.objects.filter(batch=batch, index=index).exists()


def store_piece(batch: Batch, piece: Piece, checkpoint_label: str) -> bool:
    """Render ``piece`` and store it with its question; False if the index was stored already."""
    if is_stored(batch, piece.index):
        return False
    # Render the two sides in a seeded random order, so that file times never tell Bach apart.
    sides = ["real", "generated"]
    random.Random(generation.derive_seed(batch.seed, "order", piece.index)).shuffle(sides)
    sources = {"real": piece.real_excerpt, "generated": piece.excerpt}
    rendered: dict[str, RenderedClip] = {}
    try:
        for side in sides:
            rendered[side] = render(sources[side], piece.frames)
        report = generation.style(piece.tokens)
        with transaction.atomic():
            owners = {
                "real": real_chorale(piece.source, piece.real_tokens),
                "generated": Chorale.objects.create(
                    kind=Chorale.Kind.GENERATED,
                    batch=batch,
                    index=piece.index,
                    tokens=piece.tokens,
                    frames=generation.frames_of(piece.tokens),
                    source=piece.source if batch.mode == Batch.Mode.HARMONIZE else "",
                    mask=batch.voices,
                    checkpoint=checkpoint_label,
                    temperature=batch.temperature if batch.mode == Batch.Mode.FREE else None,
                    seed=batch.seed,
                    note=piece.note,
                    style=report,
                ),
            }
            clips = {side: clip_row(owners[side], rendered[side]) for side in sides}
            services.add_question(
                category=batch.voices, clip_real=clips["real"], clip_generated=clips["generated"]
            )
    except IntegrityError:
        discard(list(rendered.values()))
        if is_stored(batch, piece.index):  # another run won the race for this index
            return False
        raise
    except BaseException:
        discard(list(rendered.values()))
        raise
    return True


def import_real(source: str, tokens: list[str]) -> bool:
    """Render corpus chorale ``source`` whole (its shared row); False if it was there already."""
    real_chorale(source, tokens)
    with transaction.atomic():
        chorale = Chorale.objects.select_for_update().get(
            kind=Chorale.Kind.REAL, batch=None, source=source
        )
        if chorale.clips.filter(frame_start=0, frame_end=chorale.frames).exists():
            return False
        rendered = render(chorale.tokens, chorale.frames)
        try:
            clip_row(chorale, rendered)
        except BaseException:
            discard([rendered])
            raise
    return True
