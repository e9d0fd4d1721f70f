"""Chorale files in and out: any supported input read as a score, and a score written by the
suffix of its output (MIDI, WAV, MP3 or SVG pages), through the one rendering path.

Inputs: MusicXML (``.musicxml``, ``.xml``, ``.mxl``), MIDI (``.mid``, ``.midi``; quantised to
sixteenths, tracks read as S, A, T, B in order) or a token file (``.tokens``, ``.txt``) with one
token per line (tokens such as ``(72, False)`` contain a space).
"""

from __future__ import annotations

from pathlib import Path

from music21 import converter, stream

from composer.encoding import Chorale
from composer.paths import MIDI_SUFFIXES, SCORE_SUFFIXES, opaque_name
from composer.render.audio import RenderError, as_score, render_mp3, render_wav, write_midi
from composer.render.svg import chorale_to_svg, score_to_svg

TOKEN_SUFFIXES = (".tokens", ".txt")
OUTPUT_SUFFIXES = (".mid", ".wav", ".mp3", ".svg")


def read_input(path: Path) -> stream.Score:
    """Load a chorale from any supported input file; RenderError when that is not possible."""
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
    if out.is_dir():
        if kind is None:
            raise RenderError(f"{str(out)!r} is a directory: give --format")
        out = out / opaque_name(kind)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        known = ", ".join(OUTPUT_SUFFIXES)
        raise RenderError(f"unknown output type {out.suffix or '(none)'!r}; expected {known}")
    return out


def write_output(
    chorale: Chorale, out: Path, score: stream.Score | None = None, key_signature: int = 0
) -> list[Path]:
    """Render ``chorale`` to ``out`` by its suffix. Sound comes from the frames; an SVG draws
    ``score`` when given (a score file as it was read), else the frames in ``key_signature``
    (sharps; negative: flats). SVG pages after the first get -2, -3..."""
    suffix = out.suffix.lower()
    if suffix == ".mid":
        return [write_midi(chorale, out)]
    if suffix == ".wav":
        return [render_wav(chorale, out)]
    if suffix == ".mp3":
        return [render_mp3(chorale, out)]
    # The frames are written as MusicXML directly (composer.render.notation), as the survey's
    # clips are; a score read from a file is drawn as music21 exports it.
    pages = chorale_to_svg(chorale, key_signature) if score is None else score_to_svg(score)
    written = []
    for page, svg in enumerate(pages, start=1):
        path = out if page == 1 else out.with_name(f"{out.stem}-{page}{out.suffix}")
        path.write_text(svg)
        written.append(path)
    return written
