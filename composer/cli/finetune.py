"""Command line of ``python -m composer finetune``: the length- or metre-aware composer, or the
harmonizer.

Flags mirror :class:`composer.training.finetune.FineTuneConfig`; ``--save`` copies the best
checkpoint to where the project ships it (``composer/checkpoints/harmonizer.pt`` for the
harmonizer).
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import fields
from pathlib import Path

from composer import paths
from composer.cli.config_flags import add_config_flags
from composer.metre import phases_of
from composer.prepare import corpus_ids, load_split
from composer.training.finetune import KINDS, FineTuneConfig, finetune


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    add_config_flags(parser, FineTuneConfig, {"kind": KINDS})
    parser.add_argument("--out", type=Path, help="run folder (default runs/finetune-KIND)")
    parser.add_argument("--save", type=Path, help="also copy the best checkpoint here")


def run(args: argparse.Namespace) -> int:
    config = FineTuneConfig(**{f.name: getattr(args, f.name) for f in fields(FineTuneConfig)})
    out = args.out or paths.RUNS_DIR / f"finetune-{config.kind}"
    split = load_split()  # corpus_ids gives the chorales in the split's order
    phases = (phases_of(split["train"]), phases_of(split["validation"]))
    best = finetune(config, corpus_ids("train"), corpus_ids("validation"), out, phases=phases)
    print(json.dumps({"best": best, "checkpoint": str(out / "best.pt")}))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "best.pt", args.save)
        shutil.copyfile(out / "best.json", args.save.with_suffix(".json"))
    return 0
