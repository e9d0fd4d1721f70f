"""Command lines of ``python -m composer train``, ``evaluate`` and ``grid``."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path

from composer import checkpoint, paths
from composer.cli.config_flags import add_config_flags
from composer.metre import phases_of
from composer.prepare import corpus_ids, load_split
from composer.training.train import TrainConfig, evaluate, save_weights_only, train


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    if command == "train":
        add_config_flags(parser, TrainConfig)
        parser.add_argument("--out", type=Path, default=paths.RUNS_DIR / "train", help="run folder")
        parser.add_argument("--resume", type=Path, help="continue from this run's last.pt")
        parser.add_argument(
            "--save", type=Path, help="also copy the best checkpoint (weights only) here"
        )
    elif command == "evaluate":
        parser.add_argument("--checkpoint", type=Path, default=paths.DEFAULT_CHECKPOINT)
        parser.add_argument("--split", default="validation", choices=["train", "validation"])
        parser.add_argument("--device", default="cpu")
    elif command == "grid":
        parser.add_argument(
            "config", type=Path, help="JSON grid file (see benchmarks/grid_small.json)"
        )
        parser.add_argument("--out", type=Path, default=paths.RUNS_DIR / "grid")


def run(args: argparse.Namespace) -> int:
    if args.command == "evaluate":
        model, vocabulary, meta = checkpoint.load(args.checkpoint, args.device)
        phases = phases_of(load_split()[args.split])  # read by a metre-aware model only
        chorales = corpus_ids(args.split)
        scores = evaluate(model, chorales, vocabulary, args.device, phases=phases)
        scores.update(checkpoint=str(args.checkpoint), split=args.split, epoch=meta["epoch"])
        print(json.dumps(scores, indent=1))
        return 0
    if args.command == "grid":
        from composer.training.grid import run_grid

        run_grid(args.config, args.out)
        return 0
    config = TrainConfig.from_dict({f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    result = train(
        config, corpus_ids("train"), corpus_ids("validation"), args.out, resume=args.resume
    )
    print(
        json.dumps(
            {"best_validation_loss": result.best_validation_loss, "best_epoch": result.best_epoch}
        )
    )
    if args.save:
        save_weights_only(result.best_path, args.save)
    return 0
