"""Command line of ``python -m composer prepare``."""

from __future__ import annotations

import argparse
from pathlib import Path

from composer.prepare import CORPUS_DIR, prepare, report


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--out", type=Path, default=CORPUS_DIR, help="output folder (default var/corpus)"
    )
    parser.add_argument("--force", action="store_true", help="ignore the cache and encode again")


def run(args: argparse.Namespace) -> int:
    prepared = prepare(args.out, force=args.force)
    print(report(prepared, args.out))
    return 0
