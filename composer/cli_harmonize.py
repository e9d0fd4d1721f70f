"""Command lines of ``python -m composer harmonize`` and ``eval-harmonization``.

``harmonize`` fills three voices under a melody file (see :mod:`composer.melody` for the
formats) and writes MusicXML or MIDI by the extension of ``--out``.

``eval-harmonization`` re-harmonizes every validation chorale with each mask (S, A, T, B, AT,
ATB: the voices blanked and filled) and reports, per mask:

* ``token_error_rate``: masked voice tokens (notes, ties and rests alike) that differ from Bach,
  over all masked voice tokens;
* ``frame_error_rate``: frames with any masked token different, over all frames;
* ``mean_logprob``: the model's log-probability of the harmonized streams, in nats per predicted
  token (every token after START, fixed ones included; see :mod:`composer.harmonize`);
* ``bach_logprob``: the same for Bach's own streams. A harmonization likelier than Bach's that
  still differs from it is the model's error, not the search's;
* ``chorales``, ``masked_tokens``, ``frames``, ``seconds``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from composer import checkpoint
from composer.encoding import BLANK, Vocabulary
from composer.harmonize import (
    METHODS,
    HarmonizationError,
    frame_layout,
    harmonize,
    mask_tokens,
    stream_log_prob,
)
from composer.harmonizer import Harmonizer
from composer.melody import (
    MelodyError,
    harmonize_melody,
    melody_voice,
    output_format,
    read_melody,
    write_score,
)
from composer.model import ChoraleLSTM

MASKS = ("S", "A", "T", "B", "AT", "ATB")


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--method", choices=METHODS, default="beam" if command == "harmonize" else "greedy"
    )
    parser.add_argument("--beam-width", type=int, default=5, help="beams kept (default 5)")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=checkpoint.shipped(checkpoint.DEFAULT_HARMONIZER),
        help="the harmonizer (composer/checkpoints/harmonizer.pt, the default) or a language "
        "model such as composer/checkpoints/bachbot.pt, BachBot's way",
    )
    parser.add_argument(
        "--no-constraints",
        dest="constraints",
        action="store_false",
        help="let the model alone choose (no range, voice order, tie and rest rules)",
    )
    if command == "harmonize":
        parser.add_argument(
            "--melody", type=Path, required=True, help=".musicxml/.xml/.mxl, .mid/.midi or .txt"
        )
        parser.add_argument(
            "--voices", default="ATB", help="the three voices to fill (default ATB)"
        )
        parser.add_argument(
            "--out", type=Path, required=True, help="output .musicxml/.xml/.mxl or .mid/.midi"
        )
    else:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--limit", type=int, help="only the first N validation chorales")
        parser.add_argument(
            "--masks", default=",".join(MASKS), help=f"comma-separated (default {','.join(MASKS)})"
        )


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "harmonize":
            return _harmonize(args)
        model, vocabulary, _ = checkpoint.load(args.checkpoint)
        return _evaluate(args, model, vocabulary)
    except (checkpoint.CheckpointError, MelodyError, HarmonizationError) as error:
        print(f"error: {error}", file=sys.stderr)
        if not args.checkpoint.exists():
            print("hint: pass --checkpoint, e.g. runs/bachbot/best.pt", file=sys.stderr)
        return 2


def _harmonize(args: argparse.Namespace) -> int:
    # The user's inputs are checked before the model is loaded and any work is done.
    output_format(args.out)
    melody = read_melody(args.melody)
    melody_voice(args.voices)
    model, vocabulary, _ = checkpoint.load(args.checkpoint)
    result = harmonize_melody(
        model, vocabulary, melody, args.voices, args.method, args.beam_width, args.constraints
    )
    write_score(result.score, args.out)
    print(
        json.dumps(
            {
                "out": str(args.out),
                "key": str(melody.key),
                "transposed_for_model": result.semitones,
                "frames": melody.frames,
                "method": args.method,
                "log_prob": round(result.harmonization.log_prob, 3),
            }
        )
    )
    return 0


def _evaluate(
    args: argparse.Namespace, model: ChoraleLSTM | Harmonizer, vocabulary: Vocabulary
) -> int:
    masks = [m.strip().upper() for m in args.masks.split(",") if m.strip()]
    chorales = validation_chorales(args.limit)
    table = evaluate(
        model, vocabulary, chorales, masks, args.method, args.beam_width, args.constraints
    )
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    print(f"{'mask':<5} {'token err':>9} {'frame err':>9} {'nats/token':>10} {'Bach':>7}")
    for mask, row in table.items():
        print(
            f"{mask:<5} {row['token_error_rate']:>9.3f} {row['frame_error_rate']:>9.3f} "
            f"{row['mean_logprob']:>10.4f} {row['bach_logprob']:>7.4f}"
        )
    return 0


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


def evaluate(
    model: ChoraleLSTM | Harmonizer,
    vocabulary: Vocabulary,
    chorales: dict[str, list[str]],
    masks: Sequence[str] = MASKS,
    method: str = "greedy",
    beam_width: int = 5,
    constraints: bool = True,
    progress: bool = True,
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
        totals = [0, 0, 0, 0]
        log_prob = 0.0
        bach = 0.0 if reads_mask else unmasked_bach
        for tokens in chorales.values():
            masked = mask_tokens(tokens, mask)
            if reads_mask:
                bach += stream_log_prob(model, vocabulary, tokens, masked)
            result = harmonize(model, vocabulary, masked, method, beam_width, constraints)
            counts = errors(tokens, masked, result.tokens)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            log_prob += result.log_prob
            bar.set_postfix(mask=mask)
            bar.update()
        table[mask] = {
            "token_error_rate": round(totals[0] / totals[1], 4),
            "frame_error_rate": round(totals[2] / totals[3], 4),
            "mean_logprob": round(log_prob / predicted, 4),
            "bach_logprob": round(bach / predicted, 4),
            "chorales": len(chorales),
            "masked_tokens": totals[1],
            "frames": totals[3],
            "seconds": round(time.monotonic() - started, 1),
        }
    bar.close()
    return table
