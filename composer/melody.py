"""A user's melody: read from a file or bytes, checked, and placed for the harmonizer; and the
harmonized score written back to a file. Reading needs music21, never torch (the web process
checks a melody before queueing it); the harmonizing itself is
:func:`composer.harmonization.melody.harmonize_melody`.

Input formats, chosen by extension (:func:`read_melody`) or named (:func:`read_melody_data`):

* MusicXML (``.musicxml``, ``.xml``, ``.mxl``), MIDI (``.mid``, ``.midi``) and ABC (``.abc``,
  read by music21): exactly one part with notes, no chords, no overlapping notes, 4/4
  throughout (a file with no time signature is read as 4/4). Fermatas are read from MusicXML
  and ABC (``H``); MIDI has none. A first measure shorter than the bar (MusicXML's and ABC's
  pickups) makes an upbeat; MIDI has no bar lines to tell one.
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
is refused quickly. Each failure raises :class:`MelodyError` naming the problem (the item, bar or
note where there is one).

An upbeat is kept as :attr:`Melody.phase` (frame 0's place in its bar), which the written score's
bar lines follow; the model itself reads no bar lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from music21 import key, note, pitch, stream

from composer.corpus import transposition_to_c_or_a
from composer.encoding import (
    BAR_FRAMES,
    FRAMES_PER_QUARTER,
    VOICES,
    Chorale,
    Note,
    chorale_to_tokens,
)
from composer.harmonization.masks import mask_tokens
from composer.melody_guard import (
    MAX_FILE_BYTES,
    MAX_MELODY_FRAMES,
    MelodyError,
    check_melody_file,
    too_long,
)
from composer.melody_scores import read_abc, read_score_file
from composer.paths import MIDI_SUFFIXES, SCORE_SUFFIXES

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
ABC_SUFFIXES = (".abc",)
BAR = BAR_FRAMES  # frames in a 4/4 bar
# What each format of read_melody_data is written to disk as, to be read like a file.
DATA_SUFFIXES = {"text": ".txt", "abc": ".abc", "musicxml": ".musicxml", "midi": ".mid"}
VOICE_WORDS = ("soprano", "alto", "tenor", "bass")


@dataclass
class Melody:
    notes: tuple[Note, ...]  # in frames, as written (not transposed)
    frames: int  # length in frames, rests included
    key: key.Key  # music21's analysis of the melody
    spelling: dict[int, str] = field(default_factory=dict)  # MIDI -> name as written ("E-4")
    # Frame 0's place in its bar in sixteenths, as in composer.metre: 12 after a quarter-note
    # pickup. Only the score's bar lines depend on it (composer.encoding.chorale_to_score).
    phase: int = 0


# --- reading -----------------------------------------------------------------------------------


def read_melody(path: str | Path) -> Melody:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCORE_SUFFIXES + MIDI_SUFFIXES + TEXT_SUFFIXES + ABC_SUFFIXES:
        raise MelodyError(
            f"{path.name}: unknown melody format {suffix or '(no extension)'}; use MusicXML "
            "(.musicxml, .xml, .mxl), MIDI (.mid, .midi), ABC (.abc) or text (.txt)"
        )
    if not path.is_file():
        raise MelodyError(f"{path}: no such file")
    # Size, note count and XML entities are checked before anything parses the file.
    kind = "mxl" if suffix == ".mxl" else "musicxml" if suffix in SCORE_SUFFIXES else "text"
    check_melody_file(path, "midi" if suffix in MIDI_SUFFIXES else kind)
    if suffix in TEXT_SUFFIXES + ABC_SUFFIXES:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise MelodyError(f"{path.name}: unreadable, not a UTF-8 text file") from error
        return parse_abc_melody(text) if suffix in ABC_SUFFIXES else parse_text_melody(text)
    return _melody(*read_score_file(path, midi=suffix in MIDI_SUFFIXES))


def read_melody_data(data: bytes, fmt: str) -> Melody:
    """A melody sent as bytes (a web form's text or file) in ``fmt``: one of DATA_SUFFIXES.

    Written to a private temporary file and read as one, through every check of read_melody.
    """
    import tempfile

    if fmt not in DATA_SUFFIXES:
        raise MelodyError(f"unknown melody format {fmt!r}; use one of {', '.join(DATA_SUFFIXES)}")
    if len(data) > MAX_FILE_BYTES:  # refused before a byte is written
        raise MelodyError(
            f"the melody is {len(data):,} bytes; a melody may be at most {MAX_FILE_BYTES:,} bytes"
        )
    with tempfile.TemporaryDirectory(prefix="melody-") as folder:
        path = Path(folder) / f"melody{DATA_SUFFIXES[fmt]}"
        path.write_bytes(data)
        return read_melody(path)


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


def parse_abc_melody(text: str) -> Melody:
    """ABC notation -> a melody (:func:`composer.melody_scores.read_abc`)."""
    return _melody(*read_abc(text))


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
    # A first bar line within the first bar follows an upbeat of that many frames.
    phase = (BAR - bars[0]) % BAR if bars else 0
    return _melody(notes, cursor, spelling, phase)


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


def _melody(notes: list[Note], frames: int, spelling: dict[int, str], phase: int = 0) -> Melody:
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
    return Melody(tuple(notes), frames, flat.analyze("key"), spelling, phase)


# --- harmonizing -------------------------------------------------------------------------------


def _name(midi: int) -> str:
    return pitch.Pitch(midi=midi).nameWithOctave


def shown(name: str) -> str:
    """A pitch name as people write it: music21's "E-4" is "Eb4"."""
    return name.replace("-", "b")


def place(melody: Melody, frame: int) -> str:
    """Where ``frame`` lies as the melody's bars number it: "bar 3, beat 2" (a pickup is bar 0)."""
    position = melody.phase + frame
    bar = position // BAR + (0 if melody.phase else 1)
    return f"bar {bar}, beat {Fraction(position % BAR, FRAMES_PER_QUARTER) + 1}"


def _outside(notes: tuple[Note, ...], low: int, high: int, shift: int = 0) -> bool:
    return any(not low <= n.midi + shift <= high for n in notes)


def model_transposition(melody: Melody, voice: str = "S") -> int:
    """Semitones that take the melody to C major / A minor within its voice's range."""
    low, high = MELODY_RANGES[voice]
    lowest, highest = min(n.midi for n in melody.notes), max(n.midi for n in melody.notes)
    where = f"the {VOICE_WORDS[VOICES.index(voice)]}"
    span = f"{_name(low)}-{_name(high)}"
    for n in melody.notes:
        if not low <= n.midi <= high:
            raise MelodyError(
                f"{shown(melody.spelling.get(n.midi, _name(n.midi)))} in "
                f"{place(melody, n.start)} lies outside {where} range {span} "
                f"(the melody spans {_name(lowest)}-{_name(highest)})"
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


def melody_voice(voices: str, given: str | None = None) -> str:
    """The voice that carries the melody: ``given`` (one of S, A, T, B that ``voices`` does not
    fill); when not given, the one voice that three ``voices`` leave, else the soprano."""
    filled = voices.upper()
    if given is not None:
        chosen = given.upper()
        if chosen not in VOICES or len(chosen) != 1:
            raise MelodyError(f"melody voice {given!r}: one of S, A, T, B")
        if chosen in filled:
            raise MelodyError(
                f"voices {voices!r} would fill the melody's own voice {chosen}: leave it out"
            )
        return chosen
    rest = [v for v in VOICES if v not in filled]
    if len(rest) == 1 and len(voices) == 3:
        return rest[0]
    if "S" in rest and len(voices) == len(set(filled)) and len(rest) < 4:
        return "S"
    raise MelodyError(
        f"voices {voices!r}: name the voice that carries the melody, or name the other three "
        "to fill (ATB when the melody is the soprano)"
    )


def melody_to_tokens(
    melody: Melody, voices: str, semitones: int, voice: str | None = None
) -> list[str]:
    """The model's input: the melody moved by ``semitones`` in its voice (``voice``, else the
    one that ``voices`` leaves), the voices to fill blank, any other voice resting throughout."""
    index = VOICES.index(melody_voice(voices, voice))
    moved = tuple(replace(n, midi=n.midi + semitones) for n in melody.notes)
    parts = tuple(moved if v == index else () for v in range(4))
    return mask_tokens(chorale_to_tokens(Chorale(parts, melody.frames)), voices)
