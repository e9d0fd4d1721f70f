"""Harmonization scored against Bach: ``eval-harmonization`` and the benchmarks.

:func:`evaluate` re-harmonizes chorales (``eval-harmonization``: the validation split's, from
:func:`validation_chorales`) with each mask (S, A, T, B, AT, ATB: the voices blanked and filled)
and reports, per mask:

* ``token_error_rate``: masked voice tokens (notes, ties and rests alike) that differ from Bach,
  over all masked voice tokens;
* ``frame_error_rate``: frames with any masked token different, over all frames;
* ``mean_logprob``: the model's log-probability of the harmonized streams, in nats per predicted
  token (every token after START, fixed ones included; see :mod:`composer.harmonization.search`);
* ``bach_logprob``: the same for Bach's own streams. A harmonization likelier than Bach's that
  still differs from it is the model's error, not the search's;
* ``masked_nats``: teacher-forced nats per masked token: minus the log-probability of Bach's own
  token in each blanked slot given Bach's stream before it, averaged over the blanked slots. It
  measures the model apart from the search (greedy and beam share it);
* ``chorales``, ``masked_tokens``, ``frames``, ``seconds``;
* with ``bootstrap`` resamples, ``intervals``: a 95% percentile bootstrap interval for each
  rate above, resampling whole chorales (a chorale's tokens are not independent of each other,
  so the chorale is the unit), each rate recomputed as a ratio of sums over the resample.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np
from scipy import stats
from tqdm import tqdm

from composer.encoding import BLANK
from composer.harmonization.masks import frame_layout, mask_tokens
from composer.harmonization.reader import Harmonizer
from composer.harmonization.search import harmonize, masked_log_prob, stream_log_prob
from composer.model import ChoraleLSTM
from composer.vocabulary import Vocabulary
from composer.voices import MASKS


def validation_chorales(limit: int | None = None) -> dict[str, list[str]]:
    """The committed validation split's chorales as tokens (the first ``limit``, sorted by id)."""
    from composer.prepare import load_split, load_tokens

    tokens = load_tokens()
    ids = load_split()["validation"][:limit]
    return {cid: tokens[cid] for cid in ids}


def errors(bach: Sequence[str], masked: Sequence[str], filled: Sequence[str]) -> tuple[int, ...]:
    """``(wrong tokens, masked tokens, wrong frames, frames)`` of one harmonization."""
    wrong_tokens = wrong_frames = masked_count = 0
    layout = frame_layout(masked)
    for slots in layout:
        blank = [p for p in slots if masked[p] == BLANK]
        wrong = sum(bach[p] != filled[p] for p in blank)
        masked_count += len(blank)
        wrong_tokens += wrong
        wrong_frames += wrong > 0
    return wrong_tokens, masked_count, wrong_frames, len(layout)


def ratio_interval(
    numerators: Sequence[float], denominators: Sequence[float], resamples: int, seed: int = 0
) -> list[float]:
    """95% percentile bootstrap interval of sum(numerators) / sum(denominators), resampling the
    pairs (one per chorale) with replacement."""
    result = stats.bootstrap(
        (np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)),
        lambda n, d, axis: n.sum(axis=axis) / d.sum(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return [round(float(result.confidence_interval.low), 4),
            round(float(result.confidence_interval.high), 4)]  # fmt: skip


def evaluate(
    model: ChoraleLSTM | Harmonizer,
    vocabulary: Vocabulary,
    chorales: dict[str, list[str]],
    masks: Sequence[str] = MASKS,
    method: str = "greedy",
    beam_width: int = 5,
    constraints: bool = True,
    progress: bool = True,
    voice_leading: bool = True,
    bootstrap: int = 0,
) -> dict[str, dict]:
    """Per mask, error rates and log-probabilities over ``chorales`` (see the module doc)."""
    for mask in masks:
        mask_tokens(next(iter(chorales.values())), mask)  # refuse a bad mask before any work
    predicted = sum(len(t) - 1 for t in chorales.values())
    # A language model scores Bach's streams the same under every mask: once will do. A
    # harmonizer reads the mask, so it scores them per mask (below).
    reads_mask = isinstance(model, Harmonizer)
    unmasked_bach = (
        None
        if reads_mask
        else sum(stream_log_prob(model, vocabulary, t) for t in chorales.values())
    )
    table: dict[str, dict] = {}
    bar = tqdm(
        total=len(masks) * len(chorales), disable=not progress, file=sys.stderr, unit="chorale"
    )
    for mask in masks:
        started = time.monotonic()
        rows: list[tuple[float, ...]] = []  # per chorale: wrong, masked, wrong frames, frames,
        log_prob = 0.0  # and minus the teacher-forced log-probability of its masked tokens
        bach = 0.0 if reads_mask else unmasked_bach
        for tokens in chorales.values():
            masked = mask_tokens(tokens, mask)
            if reads_mask:
                bach += stream_log_prob(model, vocabulary, tokens, masked)
            result = harmonize(
                model, vocabulary, masked, method, beam_width, constraints, voice_leading
            )
            counts = errors(tokens, masked, result.tokens)
            rows.append((*counts, -masked_log_prob(model, vocabulary, tokens, masked)))
            log_prob += result.log_prob
            bar.set_postfix(mask=mask)
            bar.update()
        wrong, masked_count, wrong_frames, frames, nats = (list(c) for c in zip(*rows, strict=True))
        table[mask] = {
            "token_error_rate": round(sum(wrong) / sum(masked_count), 4),
            "frame_error_rate": round(sum(wrong_frames) / sum(frames), 4),
            "mean_logprob": round(log_prob / predicted, 4),
            "bach_logprob": round(bach / predicted, 4),
            "masked_nats": round(sum(nats) / sum(masked_count), 4),
            "chorales": len(chorales),
            "masked_tokens": int(sum(masked_count)),
            "frames": int(sum(frames)),
            "seconds": round(time.monotonic() - started, 1),
        }
        if bootstrap:
            table[mask]["intervals"] = {
                "token_error_rate": ratio_interval(wrong, masked_count, bootstrap),
                "frame_error_rate": ratio_interval(wrong_frames, frames, bootstrap),
                "masked_nats": ratio_interval(nats, masked_count, bootstrap),
            }
    bar.close()
    return table
