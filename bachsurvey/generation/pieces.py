"""Storing generated and real material: chorale rows, clips rendered into MEDIA_ROOT, questions.

A piece of a generation batch (its generated chorale, both clips and its question) is stored in
one transaction under the unique (batch, index) constraint. When an earlier or concurrent run
stored that index already, the transaction rolls back, the freshly rendered files are removed
and the index counts as done: nothing is ever stored twice.

Real chorales are one shared row per corpus id (no batch): import_chorales renders each whole,
and every question's Bach clip is its own window of one (``Clip.frame_start .. frame_end``),
exactly as long as the generated clip it faces. Both clips of a piece are rendered by the same
path, moved by the same number of semitones, in an order drawn per piece, so that neither file
times nor row ids follow the sides.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bachsurvey.generation import content, music
from bachsurvey.generation.music import RenderedClip
from bachsurvey.models import Batch, Chorale, Clip


@dataclass(frozen=True)
class Piece:
    """One index of a batch, ready to render: a generated excerpt and the Bach one it faces."""

    index: int
    source: str  # corpus id of the real side
    real_tokens: list[str]  # the whole real chorale
    real_window: tuple[int, int]  # its frames in the question: start, end
    tokens: list[str]  # the generated chorale as stored (free: whole; harmonized: the excerpt)
    window: tuple[int, int]  # the generated clip's frames in ``tokens``
    shift: int  # semitones both clips are moved (one key for the pair)
    note: str

    @property
    def frames(self) -> int:
        return self.window[1] - self.window[0]

    def to_json(self) -> dict[str, Any]:
        """The piece as JSON-safe data (what a render task's message carries)."""
        return {**asdict(self), "real_window": list(self.real_window), "window": list(self.window)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Piece:
        """The inverse of :meth:`to_json` (JSON has no tuples: the windows come back as lists)."""
        windows = {name: tuple(data[name]) for name in ("real_window", "window")}
        return cls(**{**data, **windows})


def media_dirs() -> tuple[Path, Path]:
    root = Path(settings.MEDIA_ROOT)
    (root / "clips").mkdir(parents=True, exist_ok=True)
    (root / "scores").mkdir(parents=True, exist_ok=True)
    return root / "clips", root / "scores"


def render(tokens: list[str], window: tuple[int, int], shift: int) -> RenderedClip:
    excerpt = music.window_tokens(tokens, *window)
    return music.render_clip(excerpt, shift, *media_dirs())


def discard(rendered: list[RenderedClip]) -> None:
    for clip in rendered:
        clip.audio.unlink(missing_ok=True)
        clip.score.unlink(missing_ok=True)


def clip_row(
    chorale: Chorale, rendered: RenderedClip, window: tuple[int, int] | None = None, shift: int = 0
) -> Clip:
    root = Path(settings.MEDIA_ROOT)
    start, end = window or (0, rendered.frames)
    return content.add_clip(
        chorale=chorale,
        frame_start=start,
        frame_end=end,
        audio=rendered.audio.relative_to(root).as_posix(),
        score=rendered.score.relative_to(root).as_posix(),
        duration_s=rendered.duration_s,
        transpose=shift,
    )


def real_chorale(source: str, tokens: list[str]) -> Chorale:
    """The shared row of corpus chorale ``source`` (created on first use, safe under races)."""
    chorale, _ = Chorale.objects.get_or_create(
        kind=Chorale.Kind.REAL,
        batch=None,
        source=source,
        defaults={
            "tokens": tokens,
            "frames": music.frames_of(tokens),
            "title": music.chorale_title(source),
        },
    )
    if not chorale.title and music.chorale_title(source):  # a row stored before titles were kept
        chorale.title = music.chorale_title(source)
        chorale.save(update_fields=["title"])
    return chorale


def bach_first(seed: int, count: int, index: int) -> bool:
    """Whether piece ``index`` of a ``count``-piece batch stores its Bach clip first: true for
    ``count // 2`` of them, drawn by a seeded permutation."""
    order = list(range(count))
    random.Random(music.derive_seed(seed, "order")).shuffle(order)
    return order[index] < count // 2


class BatchStopped(Exception):
    """The batch is no longer running (cancelled, or ended by another run): store nothing more."""


def _lock_running(batch: Batch, fanout_id: str) -> None:
    """Lock the batch's row for this piece's transaction, or refuse when it no longer runs or
    another attempt has taken it over (its fan-out is not ``fanout_id``). Cancelling takes the
    same lock (jobs.cancel_batch): once a cancel has committed, no piece of the batch is stored
    after it."""
    locked = Batch.objects.select_for_update().filter(
        pk=batch.pk, status=Batch.Status.RUNNING, fanout__id=fanout_id
    )
    if not list(locked.values_list("pk", flat=True)):  # list(): the query runs, FOR UPDATE
        raise BatchStopped(
            f"batch {batch.pk} is no longer running, or another attempt took it over: "
            "the piece is not stored"
        )


def _count_stored(batch: Batch) -> None:
    """Progress, counted under the batch's lock (pieces stored by two workers count in turn)."""
    done = Chorale.objects.filter(batch=batch).count()
    Batch.objects.filter(pk=batch.pk).update(
        done=done, stage=f"rendering: {done} of {batch.count} stored", progressed_at=timezone.now()
    )


def is_stored(batch: Batch, index: int) -> bool:
    return Chorale.objects.filter(batch=batch, index=index).exists()


def _generated_chorale(batch: Batch, piece: Piece, checkpoint_label: str, report: dict) -> Chorale:
    """The network's side of a piece, with how it was made (checkpoint, decoding, style)."""
    harmonized = batch.mode == Batch.Mode.HARMONIZE
    return Chorale.objects.create(
        kind=Chorale.Kind.GENERATED,
        batch=batch,
        index=piece.index,
        tokens=piece.tokens,
        frames=music.frames_of(piece.tokens),
        source=piece.source if harmonized else "",
        title=music.chorale_title(piece.source) if harmonized else "",
        mask=batch.voices,
        checkpoint=checkpoint_label,
        temperature=None if harmonized else batch.temperature,
        seed=batch.seed,
        note=piece.note,
        decoding=music.decoding_record(
            not harmonized, batch.temperature, batch.method, batch.beam_width
        ),
        style=report,
    )


def store_piece(batch: Batch, piece: Piece, checkpoint_label: str, fanout_id: str) -> bool:
    """Render ``piece`` and store it with its question, unless the batch has stopped or another
    attempt than fan-out ``fanout_id`` runs it (BatchStopped); False if the index was stored
    already."""
    if is_stored(batch, piece.index):
        return False
    # Render and store the two sides in an order that never tells Bach apart: Bach first for
    # exactly half of a batch's pieces (which half, drawn with the seed). Drawn per piece, a
    # 64-piece batch stored Bach first 22 times, and audit_validity's judge learned the order.
    sides = ["real", "generated"]
    if not bach_first(batch.seed, batch.count, piece.index):
        sides.reverse()
    sources = {
        "real": (piece.real_tokens, piece.real_window),
        "generated": (piece.tokens, piece.window),
    }
    rendered: dict[str, RenderedClip] = {}
    try:
        for side in sides:
            rendered[side] = render(*sources[side], piece.shift)
        report = music.style(piece.tokens)
        with transaction.atomic():
            _lock_running(batch, fanout_id)
            owners = {
                "real": real_chorale(piece.source, piece.real_tokens),
                "generated": _generated_chorale(batch, piece, checkpoint_label, report),
            }
            clips = {
                side: clip_row(owners[side], rendered[side], sources[side][1], piece.shift)
                for side in sides
            }
            content.add_question(
                category=batch.voices, clip_real=clips["real"], clip_generated=clips["generated"]
            )
            _count_stored(batch)
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
        rendered = render(chorale.tokens, (0, chorale.frames), 0)
        try:
            clip_row(chorale, rendered)
        except BaseException:
            discard([rendered])
            raise
    return True
