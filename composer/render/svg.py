"""Engrave a chorale as SVG pages (verovio), the score a listener sees after answering.

Real and generated chorales are engraved alike: no title or composer in a header, one page size
and scale, so the picture tells nothing the music does not. A chorale in frames is written as
MusicXML by composer.render.notation (:func:`chorale_to_svg`), without building a music21 score;
a score already in hand (a file as it was read) goes through music21's exporter
(:func:`score_to_svg`).
"""

from __future__ import annotations

from pathlib import Path

from composer.encoding import Chorale
from composer.render.audio import RenderError, ScoreLike, as_score
from composer.render.notation import chorale_to_musicxml

SVG_OPTIONS = {
    "pageWidth": 2100,  # A4 portrait, in verovio's units (tenths of a millimetre)
    "pageHeight": 2970,
    "scale": 40,
    "adjustPageHeight": True,
    "header": "none",  # no title or composer: a reveal shows the music, not metadata
    "footer": "none",
    "breaks": "auto",
}


def chorale_to_svg(
    chorale: Chorale, key_signature: int = 0, phase: int = 0, options: dict | None = None
) -> list[str]:
    """Engrave a chorale's frames with verovio: one SVG document per page. ``key_signature``
    (sharps; negative: flats) and ``phase`` (frame 0's place in its bar) as in
    composer.render.notation."""
    return musicxml_to_svg(chorale_to_musicxml(chorale, key_signature, phase), options)


def score_to_svg(source: ScoreLike, options: dict | None = None) -> list[str]:
    """Engrave a chorale with verovio: one SVG document per page."""
    return musicxml_to_svg(score_to_musicxml(source), options)


def score_to_musicxml(source: ScoreLike) -> str:
    """The score as MusicXML text, as music21 writes it."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = as_score(source)
    try:
        return GeneralObjectExporter(score).parse().decode("utf-8")
    except Exception as error:  # music21 raises many kinds on odd input
        raise RenderError(f"cannot export the score as MusicXML: {error}") from error


def musicxml_to_svg(musicxml: str, options: dict | None = None) -> list[str]:
    """Engrave MusicXML text with verovio: one SVG document per page."""
    import verovio

    verovio.enableLog(verovio.LOG_OFF)
    # verovio's Python package points the fonts' path at its data only in the thread that first
    # imported it; in any other (a threaded web server running a task in-process) the toolkit
    # finds no font and reads nothing. So the path is given every time.
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    toolkit.setOptions({**SVG_OPTIONS, **(options or {})})
    if not toolkit.loadData(musicxml):
        raise RenderError("verovio could not read the score's MusicXML")
    pages = [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]
    if not pages or not all("<svg" in page for page in pages):
        raise RenderError("verovio produced no SVG")
    return pages
