"""A chorale's score as MusicXML text, written straight from its frames (no music21).

Engraving a clip through music21 (a Score, then its MusicXML exporter) cost about 90 ms of CPU
before verovio drew anything; this writer does the same job with string building in about a
millisecond. What it writes is what :func:`composer.encoding.chorale_to_score` notates:

* four parts S, A, T, B named Soprano, Alto, Tenor and Bass, in treble, treble, treble-8vb
  and bass clefs, 4/4, the key signature given (sharps; negative: flats);
* ``phase``: frame 0's place in its bar in sixteenths (composer.metre). With a phase the first
  measure is a pickup numbered 0 (``implicit``); without one the measures count from 1. The last
  measure is as long as the music: a phrase after a pickup ends in a short bar, as printed
  chorales do, with a final bar line;
* rests where a voice is silent (a whole bar's rest as a measure rest), notes split at bar lines
  and then, largest first, into values a single note can show: whole, dotted half, half, dotted
  quarter, quarter, dotted eighth, eighth, sixteenth; the pieces of one note are tied, and a
  fermata sits on its last piece (where music21 puts it);
* eighths and sixteenths beamed within each quarter-note beat, as music21 beams 4/4; a note that
  crosses a beat keeps its flag.

Pitches are spelled, and accidentals shown, by :mod:`composer.render.spelling`.

Real and generated chorales come through this one function: nothing in the text depends on where
the music came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.encoding import (
    BAR_FRAMES,
    FRAMES_PER_QUARTER,
    VOICE_NAMES,
    Chorale,
    EncodingError,
    Note,
)
from composer.render.spelling import (
    Spelling,
    accidentals,
    key_alterations,
    octave_of,
    spelling_table,
)
from composer.voices import VOICES

BEAT_FRAMES = FRAMES_PER_QUARTER  # beams join notes within one quarter-note beat of 4/4
MAX_FIFTHS = 7

# The values a single note may take, in frames, longest first, with MusicXML's type and dots.
_VALUES: tuple[tuple[int, str, int], ...] = (
    (16, "whole", 0),
    (12, "half", 1),
    (8, "half", 0),
    (6, "quarter", 1),
    (4, "quarter", 0),
    (3, "eighth", 1),
    (2, "eighth", 0),
    (1, "16th", 0),
)
_TYPES = {frames: (kind, dots) for frames, kind, dots in _VALUES}

_CLEFS = {
    "S": "<sign>G</sign><line>2</line>",
    "A": "<sign>G</sign><line>2</line>",
    "T": "<sign>G</sign><line>2</line><clef-octave-change>-1</clef-octave-change>",
    "B": "<sign>F</sign><line>4</line>",
}

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN"'
    ' "http://www.musicxml.org/dtds/partwise.dtd">\n'
    '<score-partwise version="4.0">'
)


@dataclass(frozen=True)
class Piece:
    """One written note or rest: a stretch of a voice inside one measure, of one note value.

    ``start`` counts frames on the bar timeline (frame 0 of the chorale lies at ``phase``), so
    bar lines fall on multiples of BAR_FRAMES and beats on multiples of BEAT_FRAMES.
    """

    start: int
    length: int
    midi: int | None  # None: a rest
    tie_stop: bool = False  # continues the note before it
    tie_start: bool = False  # goes on in the next piece
    fermata: bool = False


# --- the public face -----------------------------------------------------------------------------


def chorale_to_musicxml(chorale: Chorale, key_signature: int = 0, phase: int = 0) -> str:
    """The chorale notated as MusicXML text (see the module doc for what is written and how)."""
    _check(chorale, key_signature, phase)
    table = spelling_table(key_signature)
    signature = key_alterations(key_signature)
    bounds = measure_bounds(chorale.frames, phase)
    parts = []
    for index, voice in enumerate(VOICES):
        measures = split_voice(chorale, index, phase, bounds)
        parts.append(_part(voice, measures, bounds, phase, key_signature, table, signature))
    return "".join([_HEAD, _part_list(), *parts, "</score-partwise>\n"])


def _check(chorale: Chorale, key_signature: int, phase: int) -> None:
    if not 0 <= phase < BAR_FRAMES:
        raise EncodingError(f"phase {phase}: a place in a 4/4 bar, 0 to {BAR_FRAMES - 1} frames")
    if not -MAX_FIFTHS <= key_signature <= MAX_FIFTHS:
        raise EncodingError(f"key signature {key_signature}: at most {MAX_FIFTHS} sharps or flats")
    if chorale.frames < 1:
        raise EncodingError("the chorale has no frames to write")
    if len(chorale.voices) != len(VOICES):
        raise EncodingError(f"a chorale needs four voices, got {len(chorale.voices)}")


# --- spelling ------------------------------------------------------------------------------------


# --- measures and pieces -------------------------------------------------------------------------


def measure_bounds(frames: int, phase: int) -> list[tuple[int, int]]:
    """Each measure's first and end frame on the bar timeline: a pickup first when ``phase``,
    and a last measure as long as the music."""
    end = phase + frames  # phase < BAR_FRAMES: the first bar line lies at 0
    return [
        (max(start, phase), min(start + BAR_FRAMES, end)) for start in range(0, end, BAR_FRAMES)
    ]


def voice_events(notes: tuple[Note, ...], frames: int) -> list[tuple[int, int, int | None, bool]]:
    """(start, end, midi or None for a rest, fermata) covering frames 0 .. ``frames``."""
    events: list[tuple[int, int, int | None, bool]] = []
    cursor = 0
    for n in notes:
        if n.start < cursor or n.end <= n.start or n.end > frames:
            raise EncodingError(f"note {n} overlaps another or lies outside {frames} frames")
        if n.start > cursor:
            events.append((cursor, n.start, None, False))
        events.append((n.start, n.end, n.midi, n.fermata))
        cursor = n.end
    if cursor < frames:
        events.append((cursor, frames, None, False))
    return events


def split_voice(
    chorale: Chorale, index: int, phase: int, bounds: list[tuple[int, int]]
) -> list[list[Piece]]:
    """Voice ``index`` as written pieces, per measure."""
    measures: list[list[Piece]] = [[] for _ in bounds]
    for start, end, midi, fermata in voice_events(chorale.voices[index], chorale.frames):
        pieces = _cut(start + phase, end + phase, midi)
        for number, piece in enumerate(pieces):
            last = number == len(pieces) - 1
            if midi is not None:
                piece = Piece(
                    piece.start,
                    piece.length,
                    midi,
                    tie_stop=number > 0,
                    tie_start=not last,
                    fermata=fermata and last,
                )
            measures[piece.start // BAR_FRAMES].append(piece)
    return measures


def _cut(start: int, end: int, midi: int | None) -> list[Piece]:
    """A stretch of the timeline cut at bar lines, then into note values, largest first."""
    pieces = []
    while start < end:
        bar_end = min(end, (start // BAR_FRAMES + 1) * BAR_FRAMES)
        for length in note_values(bar_end - start):
            pieces.append(Piece(start, length, midi))
            start += length
    return pieces


def note_values(frames: int) -> list[int]:
    """``frames`` (at most a bar) as single-note values, largest first: 7 -> [6, 1]."""
    values = []
    for value, _, _ in _VALUES:
        while frames >= value:
            values.append(value)
            frames -= value
    return values


# --- beams -----------------------------------------------------------------------------------


def beams(pieces: list[Piece]) -> list[list[tuple[int, str]]]:
    """Each piece's beams as (level, MusicXML beam value): notes shorter than a quarter that lie
    within one beat, side by side with no rest between, are beamed; sixteenths get a second beam
    (a hook when alone: forward at a group's start, else backward)."""
    result: list[list[tuple[int, str]]] = [[] for _ in pieces]
    for group in _beam_groups(pieces):
        for place, i in enumerate(group):
            level_one = "begin" if place == 0 else "end" if place == len(group) - 1 else "continue"
            result[i].append((1, level_one))
            if pieces[i].length == 1:
                result[i].append((2, _second_beam(pieces, group, place)))
    return result


def _beam_groups(pieces: list[Piece]) -> list[list[int]]:
    groups: list[list[int]] = []
    run: list[int] = []
    for i, piece in enumerate(pieces):
        beat = piece.start // BEAT_FRAMES
        beamable = (
            piece.midi is not None
            and piece.length < BEAT_FRAMES
            and (piece.start + piece.length - 1) // BEAT_FRAMES == beat
        )
        if run and (not beamable or pieces[run[-1]].start // BEAT_FRAMES != beat):
            groups.append(run)
            run = []
        if beamable:
            run.append(i)
    groups.append(run)
    return [group for group in groups if len(group) > 1]


def _second_beam(pieces: list[Piece], group: list[int], place: int) -> str:
    before = place > 0 and pieces[group[place - 1]].length == 1
    after = place < len(group) - 1 and pieces[group[place + 1]].length == 1
    if before and after:
        return "continue"
    if before:
        return "end"
    if after:
        return "begin"
    return "forward hook" if place == 0 else "backward hook"


# --- the text ------------------------------------------------------------------------------------


def _part_list() -> str:
    parts = "".join(
        f'<score-part id="{voice}"><part-name>{name}</part-name></score-part>'
        for voice, name in zip(VOICES, VOICE_NAMES, strict=True)
    )
    return f"<part-list>{parts}</part-list>"


def _part(
    voice: str,
    measures: list[list[Piece]],
    bounds: list[tuple[int, int]],
    phase: int,
    key_signature: int,
    table: tuple[Spelling, ...],
    signature: dict[str, int],
) -> str:
    chunks = [f'<part id="{voice}">']
    for index, (pieces, (start, end)) in enumerate(zip(measures, bounds, strict=True)):
        number = index if phase else index + 1  # a pickup is measure 0, as _pickup numbers it
        # A pickup is "implicit": not counted, and drawn with no number.
        implicit = ' implicit="yes"' if phase and index == 0 else ""
        chunks.append(f'<measure number="{number}"{implicit}>')
        if index == 0:
            chunks.append(_attributes(voice, key_signature))
        full = end - start == BAR_FRAMES
        shown = accidentals(pieces, table, signature)
        for piece, accidental, beam in zip(pieces, shown, beams(pieces), strict=True):
            chunks.append(_note(piece, table, accidental, beam, full))
        if index == len(bounds) - 1:
            chunks.append('<barline location="right"><bar-style>light-heavy</bar-style></barline>')
        chunks.append("</measure>")
    chunks.append("</part>")
    return "".join(chunks)


def _attributes(voice: str, key_signature: int) -> str:
    return (
        f"<attributes><divisions>{FRAMES_PER_QUARTER}</divisions>"
        f"<key><fifths>{key_signature}</fifths></key>"
        "<time><beats>4</beats><beat-type>4</beat-type></time>"
        f"<clef>{_CLEFS[voice]}</clef></attributes>"
    )


def _note(
    piece: Piece,
    table: tuple[Spelling, ...],
    accidental: str | None,
    beam: list[tuple[int, str]],
    full_measure: bool,
) -> str:
    """One <note>, its children in the order MusicXML's schema asks."""
    if piece.midi is None:
        if full_measure and piece.length == BAR_FRAMES:  # a whole bar's rest, centred
            return f'<note><rest measure="yes"/><duration>{piece.length}</duration></note>'
        head = "<rest/>"
    else:
        step, alter = table[piece.midi % 12]
        altered = f"<alter>{alter}</alter>" if alter else ""
        octave = octave_of(piece.midi, alter)
        head = f"<pitch><step>{step}</step>{altered}<octave>{octave}</octave></pitch>"
    kind, dots = _TYPES[piece.length]
    ties = ('<tie type="stop"/>' if piece.tie_stop else "") + (
        '<tie type="start"/>' if piece.tie_start else ""
    )
    notations = ('<tied type="stop"/>' if piece.tie_stop else "") + (
        '<tied type="start"/>' if piece.tie_start else ""
    )
    if piece.fermata:
        notations += '<fermata type="upright"/>'
    return "".join(
        [
            f"<note>{head}<duration>{piece.length}</duration>{ties}<type>{kind}</type>",
            "<dot/>" * dots,
            f"<accidental>{accidental}</accidental>" if accidental else "",
            "".join(f'<beam number="{level}">{value}</beam>' for level, value in beam),
            f"<notations>{notations}</notations>" if notations else "",
            "</note>",
        ]
    )
