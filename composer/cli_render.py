"""``python -m composer render --in FILE --out OUT``: one chorale to MIDI, WAV, MP3 or SVG.

Inputs: MusicXML (``.musicxml``, ``.xml``, ``.mxl``), MIDI (``.mid``, ``.midi``; quantised to
sixteenths, tracks read as S, A, T, B in order) or a token file (``.tokens``, ``.txt``) with one
token per line (tokens such as ``(72, False)`` contain a space). Outputs go through the one fixed
rendering path of composer.render; ``.svg`` writes one file per page (``OUT``, then ``OUT-2.svg``
...). When ``--out`` is an existing directory, ``--format`` names the kind of file and it gets an
opaque random name there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from music21 import stream

SCORE_SUFFIXES = (".musicxml", ".xml", ".mxl")
MIDI_SUFFIXES = (".mid", ".midi")
TOKEN_SUFFIXES = (".tokens", ".txt")
OUTPUT_SUFFIXES = (".mid", ".wav", ".mp3", ".svg")


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


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``render`` on an ``add_subparsers()`` object."""
    parser = subparsers.add_parser("render", help="render a chorale to MIDI, audio or SVG")
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def read_input(path: Path) -> stream.Score:
    """Load a chorale from any supported input file; RenderError when that is not possible."""
    from music21 import converter

    from composer.render import RenderError, as_score

    suffix = path.suffix.lower()
    if not path.is_file():
        raise RenderError(f"input file {str(path)!r} does not exist")
    try:
        if suffix in TOKEN_SUFFIXES:
            tokens = [line.strip() for line in path.read_text().splitlines() if line.strip()]
            return as_score(tokens)
        if suffix in SCORE_SUFFIXES:
            parsed = converter.parse(path)
        elif suffix in MIDI_SUFFIXES:
            parsed = converter.parse(path, quantizePost=True, quarterLengthDivisors=(4,))
        else:
            known = ", ".join(SCORE_SUFFIXES + MIDI_SUFFIXES + TOKEN_SUFFIXES)
            raise RenderError(f"unknown input type {suffix or '(none)'!r}; expected one of {known}")
    except RenderError:
        raise
    except Exception as error:  # music21 and decoding raise many kinds on unreadable files
        raise RenderError(f"cannot read {str(path)!r}: {error}") from error
    if not isinstance(parsed, stream.Score):
        raise RenderError(f"{str(path)!r} holds a {type(parsed).__name__}, not a four-part score")
    return parsed


def output_path(out: Path, kind: str | None = None) -> Path:
    """The file to write: ``out`` itself, or an opaque name inside it when it is a directory."""
    from composer import render

    if out.is_dir():
        if kind is None:
            raise render.RenderError(f"{str(out)!r} is a directory: give --format")
        out = out / render.opaque_name(kind)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        known = ", ".join(OUTPUT_SUFFIXES)
        raise render.RenderError(
            f"unknown output type {out.suffix or '(none)'!r}; expected {known}"
        )
    return out


def write_output(score: stream.Score, out: Path) -> list[Path]:
    """Render ``score`` to ``out`` by its suffix; SVG pages after the first get -2, -3..."""
    from composer import render

    suffix = out.suffix.lower()
    if suffix == ".mid":
        return [render.write_midi(score, out)]
    if suffix == ".wav":
        return [render.render_wav(score, out)]
    if suffix == ".mp3":
        return [render.render_mp3(score, out)]
    written = []
    for page, svg in enumerate(render.score_to_svg(score), start=1):
        path = out if page == 1 else out.with_name(f"{out.stem}-{page}{out.suffix}")
        path.write_text(svg)
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    from composer import render
    from composer.encoding import EncodingError

    try:
        out = output_path(args.out, args.format)
        score = read_input(args.input)
        if args.frames is not None:
            score, kept = render.excerpt(score, args.frames)
            print(f"excerpt: {kept} frames", file=sys.stderr)
        for path in write_output(score, out):
            print(path)
    except (render.RenderError, EncodingError) as error:
        print(f"render: error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m composer render", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
