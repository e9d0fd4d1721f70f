"""A batch's machine judge: can a classifier on the notes alone tell the batch's generated clips
from the Bach clips they face? (composer.judge, through bachsurvey.generation.music)

Run when a batch is done (bachsurvey.generation.batches) and by ``manage.py judge_batch``; the
verdict is stored on the batch (``Batch.judge``) for the admin and the researchers' dashboard,
which read it and never import the composer. Each question of the batch gives one pair: its Bach
excerpt and its generated one, frames ``frame_start .. frame_end`` of each chorale's stored
tokens, both in C major / A minor (the judge's "bass ends on the tonic" feature needs one key on
both sides; the pair's random transposition is left out). A harmonization re-writes the Bach
excerpt beside it, so its pairs are judged paired (kept in one fold); free pieces are not.

The verdict is ``{"accuracy", "interval", "n", "right", "judge", "judges", "tells", "pairs"}``
(n: excerpts judged, both sides; judge: the best of composer's judges, judges: each one's
accuracy), or with too few pairs, or when the judge fails, ``{"accuracy": None, "n", "pairs",
"reason"}``. A judge that fails never fails its batch.
"""

from __future__ import annotations

import logging
from typing import Any

from bachsurvey.generation import music
from bachsurvey.models import Batch, Question

logger = logging.getLogger(__name__)
MIN_PAIRS = 5  # composer.judge's five folds need five excerpts a side
TOO_FEW = f"fewer than {MIN_PAIRS} pairs: too few to judge"


def pairs_of(batch: Batch) -> list[tuple[music.Excerpt, music.Excerpt]]:
    """(Bach, generated) excerpts of each of the batch's questions, in piece order."""
    questions = (
        Question.objects.filter(clip_generated__chorale__batch=batch)
        .select_related("clip_real__chorale", "clip_generated__chorale")
        .order_by("clip_generated__chorale__index", "created_at")
    )
    return [
        (_excerpt(question.clip_real), _excerpt(question.clip_generated)) for question in questions
    ]


def _excerpt(clip: Any) -> music.Excerpt:
    return music.Excerpt(clip.chorale.tokens, clip.frame_start, clip.frame_end)


def judge(batch: Batch) -> dict[str, Any]:
    """The judge's verdict on ``batch``'s pairs, or why there is none (never raises)."""
    pairs: list[tuple[music.Excerpt, music.Excerpt]] = []
    try:
        pairs = pairs_of(batch)
        if len(pairs) < MIN_PAIRS:
            return {"accuracy": None, "n": 2 * len(pairs), "pairs": len(pairs), "reason": TOO_FEW}
        paired = batch.mode == Batch.Mode.HARMONIZE
        verdict = music.judge_pairs(pairs, paired=paired, seed=batch.seed)
    except Exception as error:  # the judge is a report on the batch, not part of making it
        logger.exception("batch %s: the judge failed", batch.pk)
        reason = f"the judge failed: {type(error).__name__}: {error}"
        return {"accuracy": None, "n": 2 * len(pairs), "pairs": len(pairs), "reason": reason}
    return {**verdict, "pairs": len(pairs)}


def store(batch: Batch) -> dict[str, Any]:
    """Judge ``batch`` and keep the verdict on it."""
    verdict = judge(batch)
    Batch.objects.filter(pk=batch.pk).update(judge=verdict)
    batch.judge = verdict
    return verdict
