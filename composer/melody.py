"""A user's melody -> a four-voice harmonization in the melody's own key, and back to a file.

Input files, chosen by extension:

* MusicXML (``.musicxml``, ``.xml``, ``.mxl``) and MIDI (``.mid``, ``.midi``): exactly one part
  with notes, no chords, no overlapping notes, 4/4 throughout (a file with no time signature is
  read as 4/4). Fermatas are read from MusicXML; MIDI has none.
* Text (``.txt``), always 4/4: whitespace-separated items, ``%`` starts a comment to the end of
  the line::

      % Twinkle, Twinkle, Little Star (first phrase)
      C5 C5 G5 G5 | A5 A5 G5:2^ |

  ``PITCH[:DURATION][^]`` is a note: a letter A-G, an optional accidental (``#``, ``##``, ``b``,
  ``bb``, or music21's ``-``, ``--``) and an octave, scientific pitch notation (``C4`` is middle
  C, MIDI 60). ``DURATION`` is in quarter notes (``1``, ``2``, ``0.5``, ``1.5``, ``3/4``; default
  ``1``) and must be a whole number of sixteenths. A trailing ``^`` puts a fermata on the note.
  ``r[:DURATION]`` is a rest. ``|`` is an optional bar line: if given, bar lines must be four
  quarter notes apart (the first may come earlier, after an upbeat) and no bar may run longer.

Everything is quantised to sixteenths (one frame). A melody must span at least one beat, and lie
within :data:`MELODY_RANGES` of its voice both as written and after transposition, and last at
most 64 bars (:data:`composer.melody_guard.MAX_MELODY_FRAMES`). A file is checked before it is
parsed (:mod:`composer.melody_guard`: size, note count, XML entity declarations), so a hostile one
is refused quickly. Each failure raises :class:`MelodyError` naming the problem.

Harmonizing (:func:`harmonize_melody`): music21's key analysis of the melody; transposition to C
major / A minor by the corpus's rule (:func:`composer.corpus.transposition_to_c_or_a`, the tonic
moves at most a tritone), or an octave the other way when that rule would push the melody out of
range; the other three voices filled by :func:`composer.harmonization.search.harmonize`; the result
transposed back by the same interval, so the melody comes out exactly as it went in (pitches, rhythm
after quantisation, fermatas). The output score has four named parts, the key signature of the
analysed key, and the melody's own spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from music21 import chord, converter, instrument, key, meter, note, pitch, stream

from composer.corpus import transposition_to_c_or_a
from composer.encoding import (
    FRAMES_PER_QUARTER,
    VOICES,
    Chorale,
    Note,
    chorale_to_score,
    chorale_to_tokens,
    part_to_notes,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.harmonization.masks import mask_tokens
from composer.harmonization.reader import Harmonizer
from composer.harmonization.search import Harmonization, harmonize
from composer.melody_guard import MAX_MELODY_FRAMES, MelodyError, check_melody_file, too_long
from composer.model import ChoraleLSTM
from composer.paths import MIDI_SUFFIXES, SCORE_SUFFIXES
from composer.vocabulary import Vocabulary

# Where a given (fixed) voice may lie, MIDI pitches inclusive: the 0.1st-99.9th percentiles of
# each voice's sounding pitches in the prepared corpus (var/corpus/tokens.json, C major / A
# minor). Wider than encoding.VOICE_RANGES, which bounds the voices the model fills.
MELODY_RANGES: dict[str, tuple[int, int]] = {
    "S": (56, 84),
    "A": (52, 77),
    "T": (47, 72),
    "B": (33, 67),
}
TEXT_SUFFIXES = (".txt",)
BAR = 4 * FRAMES_PER_QUARTER  # frames in a 4/4 bar
VOICE_WORDS = ("soprano", "alto", "tenor", "bass")
VOICE_INSTRUMENTS = (instrument.Soprano, instrument.Alto, instrument.Tenor, instrument.Bass)


@dataclass
class Melody:
    notes: tuple[Note, ...]  # in frames, as written (not transposed)
    frames: int  # length in frames, rests included
    key: key.Key  # music21's analysis of the melody
    spelling: dict[int, str] = field(default_factory=dict)  # MIDI -> name as written ("E-4")


@dataclass
class HarmonizedMelody:
    score: stream.Score  # four named parts, in the melody's key
    chorale: Chorale  # the same, in frames, in the melody's key
    harmonization: Harmonization  # the model's tokens, in C major / A minor
    semitones: int  # the transposition applied for the model (undone in score and chorale)


# --- reading -----------------------------------------------------------------------------------


def read_melody(path: str | Path) -> Melody:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCORE_SUFFIXES + MIDI_SUFFIXES + TEXT_SUFFIXES:
        raise MelodyError(
            f"{path.name}: unknown melody format {suffix or '(no extension)'}; use MusicXML "
            "(.musicxml, .xml, .mxl), MIDI (.mid, .midi) or text (.txt)"
        )
    if not path.is_file():
        raise MelodyError(f"{path}: no such file")
    # Size, note count and XML entities are checked before anything parses the file.
    kind = "mxl" if suffix == ".mxl" else "musicxml" if suffix in SCORE_SUFFIXES else "text"
    check_melody_file(path, "midi" if suffix in MIDI_SUFFIXES else kind)
    if suffix in TEXT_SUFFIXES:
        try:
            return parse_text_melody(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise MelodyError(f"{path.name}: unreadable, not a UTF-8 text file") from error
    return _read_score_file(path, midi=suffix in MIDI_SUFFIXES)


_TEXT_NOTE = re.compile(r"^([A-Ga-g])(##|#|bb|b|--|-)?(\d)(?::([^:^]+))?(\^)?$")
_TEXT_REST = re.compile(r"^[rR](?::([^:^]+))?$")
# Digits only, and few: Fraction("1e9999999") alone would take minutes and a lot of memory.
_TEXT_DURATION = re.compile(r"\d{1,4}(\.\d{1,4})?|\d{1,4}/\d{1,4}")


def _text_duration(text: str | None, item: str) -> int:
    if text is None:
        return FRAMES_PER_QUARTER
    if not _TEXT_DURATION.fullmatch(text):
        raise MelodyError(
            f"item {item!r}: {text!r} is not a duration in quarter notes (like 1, 0.5, 3/4)"
        )
    try:
        quarters = Fraction(text)
    except (ValueError, ZeroDivisionError) as error:
        raise MelodyError(f"item {item!r}: {text!r} is not a duration in quarter notes") from error
    frames = quarters * FRAMES_PER_QUARTER
    if frames <= 0 or frames.denominator != 1:
        raise MelodyError(
            f"item {item!r}: a duration must be a positive whole number of sixteenths (0.25)"
        )
    return int(frames)


def parse_text_melody(text: str) -> Melody:
    """The text format of the module doc -> a melody."""
    notes: list[Note] = []
    spelling: dict[int, str] = {}
    cursor = 0
    bars: list[int] = []  # frame of each bar line
    for line in text.splitlines():
        for item in line.split("%", 1)[0].split():
            if item == "|":
                bars.append(cursor)
                continue
            if match := _TEXT_NOTE.match(item):
                letter, accidental, octave, duration, fermata = match.groups()
                name = letter.upper() + (accidental or "").replace("b", "-") + octave
                frames = _text_duration(duration, item)
                midi = pitch.Pitch(name).midi
                spelling.setdefault(midi, name)
                notes.append(Note(cursor, cursor + frames, midi, fermata is not None))
            elif match := _TEXT_REST.match(item):
                frames = _text_duration(match.group(1), item)
            else:
                raise MelodyError(
                    f"item {item!r} is neither a note (like C5, F#4:0.5, Bb4:2^) nor a rest "
                    "(r, r:2) nor a bar line (|)"
                )
            cursor += frames
            if cursor > MAX_MELODY_FRAMES:  # refused here, before the rest is read
                raise too_long(cursor, f"at item {item!r}")
    _check_bars(bars, cursor)
    return _melody(notes, cursor, spelling)


def _check_bars(bars: list[int], end: int) -> None:
    """Bar lines, where given, must make 4/4 bars (the first and last may be shorter)."""
    if not bars:
        return
    edges = [0, *bars, end]
    for i, (before, after) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        length = after - before
        outer = i in (0, len(edges) - 2)  # an upbeat, or the last bar
        if length > BAR or (length != BAR and not outer):
            raise MelodyError(
                f"the bar ending at quarter note {Fraction(after, FRAMES_PER_QUARTER)} lasts "
                f"{Fraction(length, FRAMES_PER_QUARTER)} quarter notes: the text format is 4/4"
            )


def _read_score_file(path: Path, midi: bool) -> Melody:
    try:
        # MIDI: quantise to sixteenths only (music21's default also allows triplets).
        options = {"quarterLengthDivisors": (FRAMES_PER_QUARTER,)} if midi else {}
        parsed = converter.parse(str(path), **options)
    except Exception as error:  # music21 raises many kinds for a file it cannot read
        raise MelodyError(f"{path.name}: unreadable ({type(error).__name__}: {error})") from error
    if isinstance(parsed, stream.Opus):
        raise MelodyError(f"{path.name}: holds several pieces; give one melody")
    parts = list(parsed.parts) if isinstance(parsed, stream.Score) else [parsed]
    with_notes = [p for p in parts if p.flatten().notes]
    if not with_notes:
        raise MelodyError(f"{path.name}: no notes")
    if len(with_notes) > 1:
        raise MelodyError(
            f"{path.name}: not monophonic: {len(with_notes)} parts have notes; "
            "give the melody alone"
        )
    part = with_notes[0]
    signatures = {ts.ratioString for ts in parsed.recurse().getElementsByClass(meter.TimeSignature)}
    if signatures - {"4/4"}:
        raise MelodyError(
            f"{path.name}: not in 4/4 (time signature {', '.join(sorted(signatures))})"
        )
    elements = [e for e in part.flatten().notes if not e.duration.isGrace]
    spelling: dict[int, str] = {}
    end = Fraction(0)
    for element in elements:
        where = f"quarter note {Fraction(element.offset)}"
        if isinstance(element, chord.Chord) and len({p.midi for p in element.pitches}) > 1:
            raise MelodyError(f"{path.name}: not monophonic: a chord at {where}")
        if element.offset < end:
            raise MelodyError(f"{path.name}: not monophonic: two notes sound at {where}")
        end = max(end, Fraction(element.offset + element.duration.quarterLength))
        for p in element.pitches:
            spelling.setdefault(p.midi, p.nameWithOctave)
    notes = part_to_notes(part, 0)
    frames = max(notes[-1].end if notes else 0, round(part.highestTime * FRAMES_PER_QUARTER))
    return _melody(notes, frames, spelling)


def _melody(notes: list[Note], frames: int, spelling: dict[int, str]) -> Melody:
    if not notes:
        raise MelodyError("the melody has no notes")
    if frames > MAX_MELODY_FRAMES:
        raise too_long(frames, "in all")
    span = notes[-1].end - notes[0].start
    if span < FRAMES_PER_QUARTER:
        raise MelodyError(
            f"the melody is shorter than a beat ({Fraction(span, FRAMES_PER_QUARTER)} of a "
            "quarter note): give at least one beat"
        )
    flat = stream.Stream()
    for n in notes:
        m21 = note.Note(spelling.get(n.midi, n.midi))
        m21.quarterLength = Fraction(n.end - n.start, FRAMES_PER_QUARTER)
        flat.insert(Fraction(n.start, FRAMES_PER_QUARTER), m21)
    return Melody(tuple(notes), frames, flat.analyze("key"), spelling)


# --- harmonizing -------------------------------------------------------------------------------


def _name(midi: int) -> str:
    return pitch.Pitch(midi=midi).nameWithOctave


def _outside(notes: tuple[Note, ...], low: int, high: int, shift: int = 0) -> bool:
    return any(not low <= n.midi + shift <= high for n in notes)


def model_transposition(melody: Melody, voice: str = "S") -> int:
    """Semitones that take the melody to C major / A minor within its voice's range."""
    low, high = MELODY_RANGES[voice]
    lowest, highest = min(n.midi for n in melody.notes), max(n.midi for n in melody.notes)
    where = f"the {VOICE_WORDS[VOICES.index(voice)]}"
    span = f"{_name(low)}-{_name(high)}"
    if _outside(melody.notes, low, high):
        raise MelodyError(
            f"the melody ({_name(lowest)}-{_name(highest)}) lies outside {where} range {span}"
        )
    mode = melody.key.mode if melody.key.mode in ("major", "minor") else "major"
    shift = transposition_to_c_or_a(melody.key.tonic.pitchClass, mode)
    for candidate in (shift, shift - 12 if shift > 0 else shift + 12):
        if not _outside(melody.notes, low, high, candidate):
            return candidate
    raise MelodyError(
        f"moved to C major / A minor ({shift:+d} semitones, or an octave the other way) the "
        f"melody ({_name(lowest)}-{_name(highest)}) leaves {where} range {span}"
    )


def melody_voice(voices: str) -> str:
    """The voice that carries the melody: the one of S, A, T, B that ``voices`` does not fill."""
    rest = [v for v in VOICES if v not in voices.upper()]
    if len(rest) != 1 or len(voices) != 3:
        raise MelodyError(
            f"voices {voices!r}: a single melody fixes one voice, so name the other three to "
            "fill (ATB when the melody is the soprano)"
        )
    return rest[0]


def melody_to_tokens(melody: Melody, voices: str, semitones: int) -> list[str]:
    """The model's input: the melody moved by ``semitones`` in its voice, the others blank."""
    index = VOICES.index(melody_voice(voices))
    moved = tuple(replace(n, midi=n.midi + semitones) for n in melody.notes)
    parts = tuple(moved if v == index else () for v in range(4))
    return mask_tokens(chorale_to_tokens(Chorale(parts, melody.frames)), voices)


def harmonize_melody(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    melody: Melody,
    voices: str = "ATB",
    method: str = "beam",
    beam_width: int = 5,
    constraints: bool = True,
    voice_leading: bool = True,
) -> HarmonizedMelody:
    voice = melody_voice(voices)
    semitones = model_transposition(melody, voice)
    masked = melody_to_tokens(melody, voices, semitones)
    result = harmonize(model, vocab, masked, method, beam_width, constraints, voice_leading)
    chorale = transpose_chorale(tokens_to_chorale(result.tokens), -semitones)
    if chorale.voices[VOICES.index(voice)] != melody.notes:  # harmonize keeps fixed tokens
        raise RuntimeError("the harmonization changed the melody")  # a bug, never the user's
    score = chorale_to_score(chorale, key_signature=melody.key.sharps)
    _dress(score, melody, VOICES.index(voice))
    return HarmonizedMelody(score, chorale, result, semitones)


def _dress(score: stream.Score, melody: Melody, melody_index: int) -> None:
    """Name the parts (instruments, for MIDI track names) and spell pitches for the key."""
    for index, (part, make) in enumerate(zip(score.parts, VOICE_INSTRUMENTS, strict=True)):
        voice = make()
        voice.partName = part.partName
        part.insert(0, voice)
        for n in part.recurse().notes:
            if index == melody_index and n.pitch.midi in melody.spelling:
                n.pitch = pitch.Pitch(melody.spelling[n.pitch.midi])
            elif (
                n.pitch.accidental is not None and n.pitch.accidental.alter * melody.key.sharps < 0
            ):
                n.pitch = n.pitch.getEnharmonic()  # a sharp in a flat key, or the reverse


def output_format(path: str | Path) -> str:
    """music21's format name for an output path, by extension."""
    suffix = Path(path).suffix.lower()
    formats = {".musicxml": "musicxml", ".xml": "musicxml", ".mxl": "mxl"}
    formats.update(dict.fromkeys(MIDI_SUFFIXES, "midi"))
    if suffix not in formats:
        raise MelodyError(
            f"{Path(path).name}: cannot write {suffix or 'a file without extension'}; "
            f"use {', '.join(formats)}"
        )
    return formats[suffix]


def write_score(score: stream.Score, path: str | Path) -> Path:
    """MusicXML or MIDI by the extension of ``path``."""
    path = Path(path)
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    score.write(fmt, fp=str(path))
    return path
