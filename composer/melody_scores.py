"""A melody out of a score that music21 reads (MusicXML, MIDI, ABC): exactly one part with notes,
no chords, no overlapping notes, 4/4 throughout; its notes in frames, their spelling, and its
upbeat (frame 0's place in its bar, from a first measure music21 padded on the left: MusicXML's
and ABC's pickup measures; MIDI has no bar lines to tell one by).

:mod:`composer.melody` guards the input first and builds the :class:`composer.melody.Melody`;
every refusal is a :class:`MelodyError` naming the problem, and where a note is at fault, its
bar and beat.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from music21 import articulations, chord, converter, expressions, meter, note, stream

from composer.encoding import BAR_FRAMES, FRAMES_PER_QUARTER, Note, part_to_notes
from composer.melody_guard import MelodyError, check_abc

# What a score gives a melody: (notes, frames, spelling, phase), composer.melody._melody's order.
Read = tuple[list[Note], int, dict[int, str], int]


def read_score_file(path: Path, midi: bool) -> Read:
    try:
        # MIDI: quantise to sixteenths only (music21's default also allows triplets).
        options = {"quarterLengthDivisors": (FRAMES_PER_QUARTER,)} if midi else {}
        parsed = converter.parse(str(path), **options)
    except Exception as error:  # music21 raises many kinds for a file it cannot read
        raise MelodyError(f"{path.name}: unreadable ({type(error).__name__}: {error})") from error
    return read_parsed(parsed, path.name, midi)


def read_abc(text: str) -> Read:
    """ABC notation: one tune, one voice, 4/4 (``M:4/4`` or ``M:C``, or no metre); fermatas
    written ``H`` or ``!fermata!``."""
    check_abc(text)
    try:
        parsed = converter.parse(_abc_fermatas(text), format="abc")
    except Exception as error:  # music21 raises many kinds for text it cannot read
        raise MelodyError(f"unreadable ABC ({type(error).__name__}: {error})") from error
    for element in parsed.recurse().notes:
        bows = [a for a in element.articulations if isinstance(a, articulations.UpBow)]
        if bows:
            element.articulations = [a for a in element.articulations if a not in bows]
            element.expressions.append(expressions.Fermata())
    return read_parsed(parsed, "the ABC tune", midi=False)


# music21 drops ABC's fermatas (``H``, ``!fermata!``), and a note after ``H`` with them, but keeps
# an up-bow (``u``): fermatas travel through music21 as up-bows, which no melody here needs. Quoted
# text and inline fields ([K:...]) are matched so that they pass unchanged.
_ABC_DECORATION = re.compile(r'"[^"]*"|\[[A-Za-z]:[^\]]*\]|!fermata!|H|u')
_ABC_FIELD = re.compile(r"^\s*[A-Za-z]:")


def _abc_fermatas(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        found = match.group()
        return "u" if found in ("H", "!fermata!") else "" if found == "u" else found

    return "\n".join(
        line if _ABC_FIELD.match(line) else _ABC_DECORATION.sub(swap, line)
        for line in text.splitlines()
    )


def read_parsed(parsed: stream.Stream, name: str, midi: bool) -> Read:
    """One monophonic part in 4/4 out of what music21 read; ``midi``: no bar lines to trust."""
    if isinstance(parsed, stream.Opus):
        raise MelodyError(f"{name}: holds several pieces; give one melody")
    parts = list(parsed.parts) if isinstance(parsed, stream.Score) else [parsed]
    with_notes = [p for p in parts if p.flatten().notes]
    if not with_notes:
        raise MelodyError(f"{name}: no notes")
    if len(with_notes) > 1:
        raise MelodyError(
            f"{name}: not monophonic: {len(with_notes)} parts have notes; give the melody alone"
        )
    part = with_notes[0]
    signatures = {ts.ratioString for ts in parsed.recurse().getElementsByClass(meter.TimeSignature)}
    if signatures - {"4/4"}:
        raise MelodyError(f"{name}: not in 4/4 (time signature {', '.join(sorted(signatures))})")
    spelling = _check_monophonic(part, name)
    notes = part_to_notes(part, 0)
    frames = max(notes[-1].end if notes else 0, round(part.highestTime * FRAMES_PER_QUARTER))
    return notes, frames, spelling, 0 if midi else _phase(part)


def _check_monophonic(part: stream.Part, name: str) -> dict[int, str]:
    """Refuse chords and overlapping notes; the pitches' spelling as written."""
    spelling: dict[int, str] = {}
    end = Fraction(0)
    for element in part.recurse().notes:
        if element.duration.isGrace:
            continue
        offset = Fraction(element.getOffsetInHierarchy(part))
        if isinstance(element, chord.Chord) and len({p.midi for p in element.pitches}) > 1:
            raise MelodyError(f"{name}: not monophonic: a chord at {_where(element, offset)}")
        if offset < end:
            raise MelodyError(
                f"{name}: not monophonic: two notes sound at {_where(element, offset)}"
            )
        end = max(end, offset + Fraction(element.duration.quarterLength))
        for p in element.pitches:
            spelling.setdefault(p.midi, p.nameWithOctave)
    return spelling


def _where(element: note.GeneralNote, offset: Fraction) -> str:
    """Where a note is, as a reader finds it: its bar (as numbered) and beat, when known."""
    measure = element.activeSite
    if not isinstance(measure, stream.Measure) or measure.number is None:  # no bars: count 4/4
        return f"bar {offset // 4 + 1}, beat {offset % 4 + 1}"
    beat = Fraction(element.offset) + Fraction(measure.paddingLeft) + 1
    return f"bar {measure.number}, beat {beat}"


def _phase(part: stream.Part) -> int:
    """Frame 0's place in its bar: how far music21 padded the first measure on the left."""
    first = part.getElementsByClass(stream.Measure).first()
    if first is None:
        return 0
    return round(first.paddingLeft * FRAMES_PER_QUARTER) % BAR_FRAMES
