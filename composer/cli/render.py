"""``python -m composer render --in FILE --out OUT``: one chorale to MIDI, WAV, MP3 or SVG.

Inputs are read by :mod:`composer.render.files` (MusicXML, MIDI or one token per line). Outputs go
through the one fixed rendering path of :mod:`composer.render`; ``.svg`` writes one file per page
(``OUT``, then ``OUT-2.svg`` ...). When ``--out`` is an existing directory, ``--format`` names the
kind of file and it gets an opaque random name there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from music21 import stream

from composer.encoding import EncodingError
from composer.render.audio import RenderError, as_chorale
from composer.render.excerpt import excerpt, key_signature_of
from composer.render.files import OUTPUT_SUFFIXES, output_path, read_input, write_output


def add_arguments(parser: argparse.ArgumentParser, name: str = "render") -> None:
    parser.add_argument(
        "--in",
        dest="input",
        type=Path,
        required=True,
        help="chorale to render: .musicxml/.xml/.mxl, .mid/.midi, or .tokens/.txt (one per line)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output file .mid/.wav/.mp3/.svg, or an existing directory (opaque name, --format)",
    )
    parser.add_argument(
        "--format",
        choices=[s.lstrip(".") for s in OUTPUT_SUFFIXES],
        help="kind of output when --out is a directory",
    )
    parser.add_argument(
        "--frames",
        type=int,
        help="cut to at most this many sixteenth frames, ending after a fermata when one is near",
    )


def run(args: argparse.Namespace) -> int:
    try:
        out = output_path(args.out, args.format)
        score = read_input(args.input)
        chorale = as_chorale(score)
        drawn: stream.Score | None = score  # an SVG of the whole input draws the input itself
        if args.frames is not None:
            chorale, kept = excerpt(chorale, args.frames)
            drawn = None  # an excerpt is drawn from its frames, in the input's key signature
            print(f"excerpt: {kept} frames", file=sys.stderr)
        signature = key_signature_of(score)
        for path in write_output(chorale, out, score=drawn, key_signature=signature):
            print(path)
    except (RenderError, EncodingError) as error:
        print(f"render: error: {error}", file=sys.stderr)
        return 1
    return 0
