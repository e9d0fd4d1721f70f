"""Command line of ``python -m composer judge``: can a classifier on the notes alone tell the
network's music from held-out Bach? (composer.judge)

Free composition (category SATB) samples ``--n`` pieces from ``--checkpoint`` and judges them
against one excerpt of each held-out chorale. Each harmonization category (S, A, T, B, AT, ATB:
the voices the network writes) re-writes those same Bach excerpts with ``--harmonizer`` and
judges each re-writing against its original, pairs kept together in the folds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from composer import checkpoint, paths
from composer.cli.decoding_flags import add_decoding_arguments, decoding_from
from composer.harmonization.evaluation import validation_chorales
from composer.judge.excerpts import bach_excerpts, harmonized_excerpts, network_excerpts
from composer.judge.verdict import Verdict, judge
from composer.sample import compose
from composer.voices import CATEGORIES


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=paths.shipped(paths.DEFAULT_COMPOSER),
        help="the composer to judge (default: composer/checkpoints/bachbot_length.pt)",
    )
    parser.add_argument(
        "--harmonizer",
        type=Path,
        default=paths.shipped(paths.DEFAULT_HARMONIZER),
        help="for the harmonization categories (default: composer/checkpoints/harmonizer.pt)",
    )
    parser.add_argument("--method", choices=("greedy", "beam"), default="beam")
    parser.add_argument(
        "--categories",
        default="SATB",
        help=f"comma-separated, of {','.join(CATEGORIES)} or 'all' (default SATB: free only)",
    )
    parser.add_argument("--temperature", type=float, default=0.8)
    add_decoding_arguments(parser)
    parser.add_argument(
        "--n",
        type=int,
        default=35,
        help="network pieces (default 35: as many as held-out chorales)",
    )
    parser.add_argument(
        "--frames", type=int, default=64, help="excerpt length (default 64: 16 quarters)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")


def _categories(text: str) -> list[str]:
    if text.strip().lower() == "all":
        return list(CATEGORIES)
    chosen = [c.strip().upper() for c in text.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown or not chosen:
        raise SystemExit(f"judge: unknown category {unknown}: use {', '.join(CATEGORIES)} or all")
    return chosen


def _load(path: Path):
    try:
        return checkpoint.load(path)[:2]
    except checkpoint.CheckpointError as error:
        raise SystemExit(f"judge: {error}") from error


def run(args: argparse.Namespace) -> int:
    if args.n < 5 or args.frames < 16:
        raise SystemExit("--n must be at least 5 and --frames at least 16")
    categories = _categories(args.categories)
    decoding = decoding_from(args)
    torch.set_num_threads(args.threads)
    bach = bach_excerpts(validation_chorales(), args.frames, args.seed)
    print(f"{len(bach)} held-out Bach excerpts of {args.frames} frames; 50% is chance")
    verdicts: dict[str, Verdict] = {}
    for category in categories:
        if category == "SATB":
            model, vocabulary = _load(args.checkpoint)
            pieces = compose(
                model,
                vocabulary,
                args.n,
                temperature=args.temperature,
                seed=args.seed,
                decoding=decoding,
            )
            network = network_excerpts(pieces, args.frames)
            verdict = judge(bach, network, seed=args.seed)
            what = f"{args.checkpoint.name} at {args.temperature}, {decoding}"
        else:
            model, vocabulary = _load(args.harmonizer)
            network = harmonized_excerpts(
                model, vocabulary, bach, category, args.method, decoding.voice_leading
            )
            verdict = judge(bach, network, seed=args.seed, paired=True)
            rules = "voice leading" if decoding.voice_leading else "no voice-leading rules"
            what = f"{args.harmonizer.name}, {args.method}, {rules}"
        verdicts[category] = verdict
        low, high = verdict.interval
        others = ", ".join(f"{name} {a:.0%}" for name, a in verdict.judges.items())
        print(f"{category:>4}: the judge is right {verdict.accuracy:.1%} "
              f"(95% {low:.2f}-{high:.2f}, n {verdict.n}; {others}) on {what}")  # fmt: skip
        for tell in verdict.tells:
            print(f"        tell: {tell}")
    if args.json:
        headline = verdicts.get("SATB") or next(iter(verdicts.values()))
        summary = {
            "checkpoint": str(args.checkpoint),
            "harmonizer": str(args.harmonizer),
            "settings": decoding.record(args.temperature),
            **headline.as_dict(),
            "per_category": {c: v.as_dict() for c, v in verdicts.items()},
        }
        print(json.dumps(summary))
    return 0
