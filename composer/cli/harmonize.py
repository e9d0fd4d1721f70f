"""Command lines of ``python -m composer harmonize`` and ``eval-harmonization``.

``harmonize`` fills voices under a melody file (see :mod:`composer.melody` for the
formats) and writes MusicXML or MIDI by the extension of ``--out``.

``eval-harmonization`` prints :func:`composer.harmonization.evaluation.evaluate`'s table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from composer import checkpoint, paths
from composer.harmonization.evaluation import evaluate, validation_chorales
from composer.harmonization.masks import HarmonizationError
from composer.harmonization.melody import harmonize_melody, output_format, write_score
from composer.harmonization.reader import Harmonizer
from composer.harmonization.search import METHODS
from composer.melody import MelodyError, melody_voice, read_melody
from composer.model import ChoraleLSTM
from composer.vocabulary import Vocabulary
from composer.voices import MASKS


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--method", choices=METHODS, default="beam" if command == "harmonize" else "greedy"
    )
    parser.add_argument("--beam-width", type=int, default=5, help="beams kept (default 5)")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=paths.shipped(paths.DEFAULT_HARMONIZER),
        help="the harmonizer (composer/checkpoints/harmonizer.pt, the default) or a language "
        "model such as composer/checkpoints/bachbot.pt, BachBot's way",
    )
    parser.add_argument(
        "--no-constraints",
        dest="constraints",
        action="store_false",
        help="let the model alone choose (no range, voice order, tie, rest and voice-leading "
        "rules): BachBot's method",
    )
    parser.add_argument(
        "--no-voice-leading",
        dest="voice_leading",
        action="store_false",
        help="allow parallel and antiparallel fifths and octaves (forbidden by default)",
    )
    if command == "harmonize":
        parser.add_argument(
            "--melody",
            type=Path,
            required=True,
            help=".musicxml/.xml/.mxl, .mid/.midi, .abc or .txt",
        )
        parser.add_argument("--voices", default="ATB", help="the voices to fill (default ATB)")
        parser.add_argument(
            "--melody-voice",
            choices=("S", "A", "T", "B"),
            help="the voice that sings the melody (default: the one that --voices leaves)",
        )
        parser.add_argument(
            "--out", type=Path, required=True, help="output .musicxml/.xml/.mxl or .mid/.midi"
        )
    else:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--limit", type=int, help="only the first N validation chorales")
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=0,
            metavar="N",
            help="95%% intervals from N bootstrap resamples of the chorales (e.g. 2000)",
        )
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
    melody_voice(args.voices, args.melody_voice)
    model, vocabulary, _ = checkpoint.load(args.checkpoint)
    result = harmonize_melody(
        model,
        vocabulary,
        melody,
        args.voices,
        args.method,
        args.beam_width,
        args.constraints,
        args.voice_leading,
        voice=args.melody_voice,
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
    if args.bootstrap < 0:
        raise HarmonizationError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    chorales = validation_chorales(args.limit)
    if args.bootstrap and len(chorales) < 2:
        raise HarmonizationError("--bootstrap resamples chorales: it needs at least two")
    table = evaluate(
        model,
        vocabulary,
        chorales,
        masks,
        args.method,
        args.beam_width,
        args.constraints,
        voice_leading=args.voice_leading,
        bootstrap=args.bootstrap,
    )
    if args.json:
        print(json.dumps(table, indent=1))
        return 0
    print(
        f"{'mask':<5} {'token err':>19} {'frame err':>19} {'masked nats':>19} "
        f"{'nats/token':>10} {'Bach':>7}"
    )
    for mask, row in table.items():
        cells = [
            _with_interval(row, name)
            for name in ("token_error_rate", "frame_error_rate", "masked_nats")
        ]
        print(
            f"{mask:<5} {cells[0]:>19} {cells[1]:>19} {cells[2]:>19} "
            f"{row['mean_logprob']:>10.4f} {row['bach_logprob']:>7.4f}"
        )
    return 0


def _with_interval(row: dict, name: str) -> str:
    """``0.326 (0.30–0.35)`` with a bootstrap interval, else the figure alone."""
    interval = row.get("intervals", {}).get(name)
    figure = f"{row[name]:.3f}"
    return f"{figure} ({interval[0]:.3f}–{interval[1]:.3f})" if interval else figure
