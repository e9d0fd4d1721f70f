"""BachBot's token encoding of a four-voice chorale, made exact (SPEC §2).

A chorale is cut into frames of one sixteenth note each. Every frame is written as

    [(.)] S A T B |||

where each of S, A, T, B is one voice token, always in that order (built per part, never with
``chordify``):

    ``(60, False)``   MIDI pitch 60 starts sounding in this frame
    ``(60, True)``    the voice holds pitch 60 over from the previous frame (a tie or a long note)
    ``REST``          the voice is silent in this frame (our addition: BachBot dropped silent voices
                      and so lost which voice was which)

``(.)`` opens every frame that lies under a fermata. ``START`` and ``END`` wrap each chorale.
``BLANK`` stands for a voice token to be filled in, in harmonization inputs only; ``PAD`` pads
batches.

Fermatas are a property of frames, not notes: a frame is under a fermata when a note sounding in
it carries one, and decoding puts a fermata on every note whose frames all lie under fermatas.
The corpus is normalised to that rule (see :func:`normalise_fermatas`), which makes
``tokens -> score -> tokens`` and ``score -> tokens -> score`` exact. Fermatas on rests are not
kept.

Decoding a *sampled* stream repairs or rejects malformed input by these rules:

* tokens before ``START`` are an error; a missing ``START`` is tolerated (the stream begins at
  the first frame);
* a missing ``END``: the stream ends at the last complete frame; an unfinished last frame (no
  closing ``|||``) is dropped;
* tokens after ``END`` are ignored;
* a tie with no predecessor (``(p, True)`` where the voice did not sound ``p`` in the previous
  frame) is read as a new note, ``(p, False)``;
* a frame with more or fewer than four voice tokens, an unknown token, ``(.)`` anywhere but at the
  start of a frame, ``BLANK`` or ``PAD`` raise :class:`EncodingError` naming the frame.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from music21 import clef, expressions, key, meter, note, stream

from composer.voices import VOICES

START = "START"
END = "END"
FRAME_END = "|||"
FERMATA = "(.)"
BLANK = "BLANK"
PAD = "PAD"
REST = "REST"
SPECIAL_TOKENS = (PAD, START, END, FRAME_END, FERMATA, BLANK)

VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")

# Usual range of each voice, MIDI pitches inclusive: the 0.5th and 99.5th percentiles of the
# sounding pitches (one count per frame) of each voice over the prepared corpus
# (var/corpus/tokens.json: 351 chorales in C major / A minor, 75,940 frames). The corpus extremes
# are S 52-86, A 48-79, T 44-74, B 31-69; these bounds keep 99% of Bach's notes.
VOICE_RANGES: dict[str, tuple[int, int]] = {
    "S": (57, 81),
    "A": (52, 76),
    "T": (48, 71),
    "B": (36, 64),
}

FRAMES_PER_QUARTER = 4
BAR_FRAMES = 4 * FRAMES_PER_QUARTER  # one 4/4 bar

DATA_DIR = Path(__file__).resolve().parent / "data"

_NOTE_TOKEN = re.compile(r"^\((\d{1,3}), (True|False)\)$")


class EncodingError(ValueError):
    """A score or token stream that cannot be encoded or decoded."""


@dataclass(frozen=True)
class Note:
    """One sounding note of one voice, in frames: it sounds in frames ``start .. end-1``."""

    start: int
    end: int
    midi: int
    fermata: bool = False


@dataclass(frozen=True)
class Chorale:
    """Four voices (S, A, T, B) of notes, and the chorale's length in frames."""

    voices: tuple[tuple[Note, ...], ...]
    frames: int


# --- voice tokens --------------------------------------------------------------------------------


def note_token(midi: int, tied: bool) -> str:
    return f"({midi}, {tied})"


def parse_note_token(token: str) -> tuple[int, bool] | None:
    """``"(60, True)" -> (60, True)``; ``None`` for any other token (REST included)."""
    match = _NOTE_TOKEN.match(token)
    if match is None:
        return None
    return int(match.group(1)), match.group(2) == "True"


def is_voice_token(token: str) -> bool:
    return token == REST or parse_note_token(token) is not None


# --- score <-> chorale ---------------------------------------------------------------------------


def _to_frame(quarter_length: float | Fraction) -> int:
    """Round an offset in quarter notes to the nearest sixteenth frame."""
    return int(round(float(quarter_length) * FRAMES_PER_QUARTER))


def _pitch_of(element: note.NotRest, voice_index: int) -> int:
    """A chord in one voice (a divisi) is read as its outer note: top for S/A/T, bottom for B."""
    if isinstance(element, note.Note):
        return element.pitch.midi
    midis = [p.midi for p in element.pitches]
    return min(midis) if voice_index == 3 else max(midis)


def _has_fermata(element: note.GeneralNote) -> bool:
    return any(isinstance(e, expressions.Fermata) for e in element.expressions)


def part_to_notes(part: stream.Part, voice_index: int) -> list[Note]:
    """One part's notes in frames: ties merged, grace notes dropped, overlaps clipped."""
    notes: list[Note] = []
    for element in part.flatten().notes:
        if element.duration.isGrace:
            continue
        start = _to_frame(element.offset)
        end = _to_frame(element.offset + element.duration.quarterLength)
        midi = _pitch_of(element, voice_index)
        fermata = _has_fermata(element)
        tie = element.tie
        previous = notes[-1] if notes else None
        continues = (
            tie is not None
            and tie.type in ("stop", "continue")
            and previous is not None
            and previous.midi == midi
            and previous.end >= start
        )
        if continues:
            notes[-1] = replace(
                previous, end=max(end, previous.end), fermata=previous.fermata or fermata
            )
            continue
        if end <= start:  # shorter than half a sixteenth: quantised away
            continue
        if previous is not None and previous.end > start:  # overlap after quantisation
            if previous.start >= start:
                notes.pop()
            else:
                notes[-1] = replace(previous, end=start)
        notes.append(Note(start, end, midi, fermata))
    return notes


def score_to_chorale(score: stream.Score) -> Chorale:
    """Read the four parts of ``score`` (in the order S, A, T, B) as notes in frames."""
    parts = list(score.parts)
    if len(parts) != 4:
        raise EncodingError(f"a chorale needs exactly four parts (S, A, T, B), got {len(parts)}")
    voices = tuple(tuple(part_to_notes(part, i)) for i, part in enumerate(parts))
    frames = max((n.end for voice in voices for n in voice), default=0)
    if frames == 0:
        raise EncodingError("the score has no notes")
    return Chorale(voices, frames)


def fermata_frames(chorale: Chorale) -> set[int]:
    """Frames in which some sounding note carries a fermata."""
    return {
        f for voice in chorale.voices for n in voice if n.fermata for f in range(n.start, n.end)
    }


def normalise_fermatas(chorale: Chorale) -> Chorale:
    """Mark exactly the notes whose frames all lie under a fermata (idempotent; see module doc)."""
    under = fermata_frames(chorale)
    voices = tuple(
        tuple(replace(n, fermata=all(f in under for f in range(n.start, n.end))) for n in voice)
        for voice in chorale.voices
    )
    return Chorale(voices, chorale.frames)


def transpose_chorale(chorale: Chorale, semitones: int) -> Chorale:
    voices = tuple(
        tuple(replace(n, midi=n.midi + semitones) for n in voice) for voice in chorale.voices
    )
    return Chorale(voices, chorale.frames)


def chorale_to_score(chorale: Chorale, key_signature: int = 0, phase: int = 0) -> stream.Score:
    """Build a notated four-part score (4/4, measures, ties across barlines) from frames.

    ``key_signature`` is the number of sharps (negative: flats) written at the start. ``phase``
    is frame 0's place in its bar in sixteenths (as in composer.metre): 12 after a quarter-note
    pickup, whose incomplete first measure is then numbered 0, so the bar lines fall where the
    music puts them.
    """
    if not 0 <= phase < BAR_FRAMES:
        raise EncodingError(f"phase {phase}: a place in a 4/4 bar, 0 to {BAR_FRAMES - 1} frames")
    score = stream.Score()
    for voice_id, name, notes in zip(VOICES, VOICE_NAMES, chorale.voices, strict=True):
        part = stream.Part()
        part.insert(0, _CLEFS[voice_id]())
        part.insert(0, meter.TimeSignature("4/4"))
        part.insert(0, key.KeySignature(key_signature))
        # Written ``phase`` frames into the first bar, after a rest that _pickup then removes.
        cursor = 0
        for n in notes:
            if n.start > cursor:
                part.insert(Fraction(cursor + phase, FRAMES_PER_QUARTER), _rest(n.start - cursor))
            m21 = note.Note(n.midi)
            if m21.pitch.accidental is not None and m21.pitch.accidental.name == "natural":
                m21.pitch.accidental = None  # a natural sign on every white note is noise
            m21.quarterLength = Fraction(n.end - n.start, FRAMES_PER_QUARTER)
            if n.fermata:
                m21.expressions.append(expressions.Fermata())
            part.insert(Fraction(n.start + phase, FRAMES_PER_QUARTER), m21)
            cursor = n.end
        if chorale.frames > cursor:
            rest = _rest(chorale.frames - cursor)
            part.insert(Fraction(cursor + phase, FRAMES_PER_QUARTER), rest)
        if phase:
            part.insert(0, _rest(phase))
        measured = part.makeMeasures(inPlace=False)
        measured.id, measured.partName = voice_id, name  # makeMeasures drops both
        measured.makeTies(inPlace=True)
        if phase:
            _pickup(measured, Fraction(phase, FRAMES_PER_QUARTER))
        score.insert(0, measured)
    return score


def _pickup(part: stream.Part, lead: Fraction) -> None:
    """Make the first measure a pickup: drop its first ``lead`` quarters (the rest written there),
    move the rest of the part that much earlier, and number the measures from 0."""
    measures = list(part.getElementsByClass(stream.Measure))
    first = measures[0]
    for element in list(first.notesAndRests):
        if element.offset < lead:
            first.remove(element)
        else:
            first.setElementOffset(element, element.offset - lead)
    first.paddingLeft = float(lead)
    first.number = 0
    for measure in measures[1:]:
        part.setElementOffset(measure, measure.offset - lead)
        measure.number -= 1


# The clefs singers read: the tenor an octave below the treble staff.
_CLEFS = {"S": clef.TrebleClef, "A": clef.TrebleClef, "T": clef.Treble8vbClef, "B": clef.BassClef}


def _rest(frames: int) -> note.Rest:
    rest = note.Rest()
    rest.quarterLength = Fraction(frames, FRAMES_PER_QUARTER)
    return rest


# --- chorale <-> tokens --------------------------------------------------------------------------


def chorale_to_frames(chorale: Chorale) -> list[list[str]]:
    """Per frame, the four voice tokens S, A, T, B."""
    frames = [[REST] * 4 for _ in range(chorale.frames)]
    for v, voice in enumerate(chorale.voices):
        for n in voice:
            for f in range(n.start, n.end):
                frames[f][v] = note_token(n.midi, tied=f > n.start)
    return frames


def chorale_to_tokens(chorale: Chorale) -> list[str]:
    under = fermata_frames(chorale)
    tokens = [START]
    for f, voice_tokens in enumerate(chorale_to_frames(chorale)):
        if f in under:
            tokens.append(FERMATA)
        tokens.extend(voice_tokens)
        tokens.append(FRAME_END)
    tokens.append(END)
    return tokens


def split_frames(tokens: Sequence[str]) -> list[tuple[bool, list[str]]]:
    """Cut a token stream into frames ``(under_fermata, [S, A, T, B])`` by the repair rules."""
    position = 0
    if tokens and tokens[0] == START:
        position = 1
    frames: list[tuple[bool, list[str]]] = []
    fermata, voice_tokens = False, []
    for token in tokens[position:]:
        frame_no = len(frames)
        if token == END:
            break
        if token == FRAME_END:
            if len(voice_tokens) != 4:
                raise EncodingError(
                    f"frame {frame_no} has {len(voice_tokens)} voice tokens, expected 4 (S A T B)"
                )
            frames.append((fermata, voice_tokens))
            fermata, voice_tokens = False, []
        elif token == FERMATA:
            if fermata or voice_tokens:
                raise EncodingError(f"frame {frame_no}: '(.)' must open the frame")
            fermata = True
        elif is_voice_token(token):
            if len(voice_tokens) == 4:
                raise EncodingError(f"frame {frame_no} has more than four voice tokens")
            voice_tokens.append(token)
        elif token in (START, BLANK, PAD):
            raise EncodingError(f"frame {frame_no}: token {token!r} cannot appear inside a chorale")
        else:
            raise EncodingError(f"frame {frame_no}: unknown token {token!r}")
    if not frames:
        raise EncodingError("the token stream holds no complete frame")
    return frames


def tokens_to_chorale(tokens: Sequence[str]) -> Chorale:
    frames = split_frames(tokens)
    under = {f for f, (fermata, _) in enumerate(frames) if fermata}
    voices = tuple(tuple(_read_voice(frames, v, under)) for v in range(4))
    return Chorale(voices, len(frames))


def _read_voice(frames: list[tuple[bool, list[str]]], v: int, under: set[int]) -> list[Note]:
    """Voice ``v``'s notes: a note runs from an untied token through the tied ones after it."""
    notes: list[Note] = []
    start: int | None = None  # frame where the sounding note began; None while resting
    midi = -1
    for f, (_, voice_tokens) in enumerate(frames):
        parsed = parse_note_token(voice_tokens[v])
        if parsed is not None and parsed[1] and start is not None and parsed[0] == midi:
            continue  # the held note goes on
        if start is not None:
            notes.append(_note(start, f, midi, under))
            start = None
        if parsed is not None:  # a new note; a tie with no predecessor lands here too
            start, midi = f, parsed[0]
    if start is not None:
        notes.append(_note(start, len(frames), midi, under))
    return notes


def _note(start: int, end: int, midi: int, under: set[int]) -> Note:
    return Note(start, end, midi, fermata=all(f in under for f in range(start, end)))


# --- the public face -----------------------------------------------------------------------------


def score_to_tokens(score: stream.Score) -> list[str]:
    """Encode a four-part (S, A, T, B) score, already quantised and transposed, as tokens."""
    return chorale_to_tokens(normalise_fermatas(score_to_chorale(score)))


def tokens_to_score(tokens: Sequence[str], key_signature: int = 0, phase: int = 0) -> stream.Score:
    """Decode a token stream into a four-part score; see the module doc for the repair rules."""
    return chorale_to_score(tokens_to_chorale(tokens), key_signature=key_signature, phase=phase)
