"""Command line of ``python -m composer judge``: can a classifier on the notes alone tell the
network's free compositions from held-out Bach? (composer.judge)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from composer import checkpoint, paths
from composer.harmonization.evaluation import validation_chorales
from composer.judge.excerpts import bach_excerpts, network_excerpts
from composer.judge.verdict import judge
from composer.sample import compose


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=paths.shipped(paths.DEFAULT_COMPOSER),
        help="the composer to judge (default: composer/checkpoints/bachbot_length.pt)",
    )
    parser.add_argument("--temperature", type=float, default=0.8)
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


def run(args: argparse.Namespace) -> int:
    if args.n < 5 or args.frames < 16:
        raise SystemExit("--n must be at least 5 and --frames at least 16")
    torch.set_num_threads(args.threads)
    try:
        model, vocabulary, _ = checkpoint.load(args.checkpoint)
    except checkpoint.CheckpointError as error:
        raise SystemExit(f"judge: {error}") from error
    pieces = compose(model, vocabulary, args.n, temperature=args.temperature, seed=args.seed)
    network = network_excerpts(pieces, args.frames)
    bach = bach_excerpts(validation_chorales(), args.frames, args.seed)
    verdict = judge(bach, network, seed=args.seed)
    low, high = verdict.interval
    print(f"checkpoint {args.checkpoint.name}, temperature {args.temperature}: {len(network)} "
          f"network and {len(bach)} held-out Bach excerpts of {args.frames} frames")  # fmt: skip
    print(f"free composition (SATB): the judge is right {verdict.accuracy:.1%} "
          f"(95% {low:.2f}-{high:.2f}; 50% is chance)")  # fmt: skip
    for tell in verdict.tells:
        print(f"  tell: {tell}")
    if args.json:
        summary = {**verdict.as_dict(), "per_category": {"SATB": verdict.as_dict()}}
        summary["checkpoint"], summary["temperature"] = str(args.checkpoint), args.temperature
        print(json.dumps(summary))
    return 0
