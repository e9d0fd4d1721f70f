"""A batch's machine judge: can a classifier on the notes alone tell the batch's generated clips
from the Bach clips they face? (composer.judge, through bachsurvey.generation.music)

Run by a batch's task on the pairs it has planned while render workers store them
(bachsurvey.generation.batches), kept once the batch is done, and by ``manage.py
judge_batch``. The verdict is stored on the batch (``Batch.judge``) for the admin and the
researchers' dashboard, which read it and never import the composer. Each question of the
batch gives one pair: its Bach excerpt and its generated one, frames ``frame_start ..
frame_end`` of each chorale's stored tokens, both in C major / A minor (the judge's "bass ends
on the tonic" feature needs one key on both sides; the pair's random transposition is left
out). A harmonization re-writes the Bach
excerpt beside it, so its pairs are judged paired (kept in one fold); free pieces are not.

The verdict is ``{"accuracy", "interval", "n", "right", "judge", "judges", "tells", "pairs"}``
(n: excerpts judged, both sides; judge: the best of composer's judges, judges: each one's
accuracy), or with too few pairs, or when the judge fails, ``{"accuracy": None, "n", "pairs",
"reason"}``. A judge that fails never fails its batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bachsurvey.generation import music
from bachsurvey.generation.pieces import Piece
from bachsurvey.models import Batch, Question

logger = logging.getLogger(__name__)
MIN_PAIRS = 5  # composer.judge's five folds need five excerpts a side
TOO_FEW = f"fewer than {MIN_PAIRS} pairs: too few to judge"


def pairs_of(
    batch: Batch, planned: Sequence[Piece] = ()
) -> list[tuple[music.Excerpt, music.Excerpt]]:
    """(Bach, generated) excerpts of each of the batch's questions, in piece order; with
    ``planned``, the pieces a fan-out is storing right now count as stored (each in place of
    whatever its index holds, so a piece stored meanwhile is not counted twice)."""
    questions = (
        Question.objects.filter(clip_generated__chorale__batch=batch)
        .exclude(clip_generated__chorale__index__in=[piece.index for piece in planned])
        .select_related("clip_real__chorale", "clip_generated__chorale")
        .order_by("clip_generated__chorale__index", "created_at")
    )
    indexed = [
        (q.clip_generated.chorale.index, (_excerpt(q.clip_real), _excerpt(q.clip_generated)))
        for q in questions
    ]
    indexed += [(piece.index, _planned(piece)) for piece in planned]
    return [pair for _, pair in sorted(indexed, key=lambda item: item[0])]


def _planned(piece: Piece) -> tuple[music.Excerpt, music.Excerpt]:
    """A piece's pair as its question will hold it (bachsurvey.generation.pieces.store_piece)."""
    return (
        music.Excerpt(piece.real_tokens, *piece.real_window),
        music.Excerpt(piece.tokens, *piece.window),
    )


def _excerpt(clip: Any) -> music.Excerpt:
    return music.Excerpt(clip.chorale.tokens, clip.frame_start, clip.frame_end)


def judge(batch: Batch, planned: Sequence[Piece] = ()) -> dict[str, Any]:
    """The judge's verdict on ``batch``'s pairs (``planned``: see :func:`pairs_of`), or why
    there is none (never raises)."""
    pairs: list[tuple[music.Excerpt, music.Excerpt]] = []
    try:
        pairs = pairs_of(batch, planned)
        if len(pairs) < MIN_PAIRS:
            return {"accuracy": None, "n": 2 * len(pairs), "pairs": len(pairs), "reason": TOO_FEW}
        paired = batch.mode == Batch.Mode.HARMONIZE
        verdict = music.judge_pairs(pairs, paired=paired, seed=batch.seed)
    except Exception as error:  # the judge is a report on the batch, not part of making it
        logger.exception("batch %s: the judge failed", batch.pk)
        reason = f"the judge failed: {type(error).__name__}: {error}"
        return {"accuracy": None, "n": 2 * len(pairs), "pairs": len(pairs), "reason": reason}
    return {**verdict, "pairs": len(pairs)}


def store(batch: Batch, verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keep ``verdict`` on ``batch`` (by default: judge its stored pairs now)."""
    verdict = judge(batch) if verdict is None else verdict
    Batch.objects.filter(pk=batch.pk).update(judge=verdict)
    batch.judge = verdict
    return verdict
