"""The sampling flags that ``sample`` and ``judge`` share (composer.decoding)."""

from __future__ import annotations

import argparse

from composer.decoding import Decoding


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--top-p", type=float, default=1.0, help="nucleus sampling: keep this much mass (1: all)"
    )
    parser.add_argument(
        "--hold-temperature",
        type=float,
        default=1.0,
        help="temperature of holding a note against sounding a new one (default 1: the model's "
        "own rate; pass the --temperature value for one temperature throughout)",
    )
    parser.add_argument(
        "--no-voice-leading",
        dest="voice_leading",
        action="store_false",
        help="allow parallel and antiparallel fifths and octaves (forbidden by default)",
    )
    parser.add_argument(
        "--metre-rules",
        action="store_true",
        help="fermatas begin only on beat 1 or 3 and no note is held over a bar line, at each "
        "piece's bar phase (drawn with its length); off by default: the judge tells it more often",
    )


def decoding_from(args: argparse.Namespace) -> Decoding:
    try:
        return Decoding(args.top_p, args.hold_temperature, args.voice_leading, args.metre_rules)
    except ValueError as error:
        raise SystemExit(f"{args.command}: {error}") from error
