"""A user's melody harmonized: the melody (composer.melody) moved to C major / A minor, the
voices asked for filled by :func:`composer.harmonization.search.harmonize`, and the result moved
back, so the melody comes out exactly as it went in (pitches, rhythm after quantisation,
fermatas, bar lines after an upbeat); and the score written to MusicXML or MIDI.

Any non-empty set of the voices the melody is not in may be filled; a voice neither given nor
filled rests throughout (a melody in the soprano with only the bass filled is a duet).

music21's key analysis of the melody gives the transposition, by the corpus's rule
(:func:`composer.corpus.transposition_to_c_or_a`, the tonic moves at most a tritone), or an
octave the other way when that rule would push the melody out of its voice's range. The output
score has four named parts, the key signature of the analysed key, and the melody's own spelling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from music21 import instrument, pitch, stream

from composer.encoding import (
    VOICES,
    Chorale,
    chorale_to_score,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.harmonization.reader import Harmonizer
from composer.harmonization.search import Harmonization, harmonize
from composer.melody import Melody, MelodyError, melody_to_tokens, melody_voice, model_transposition
from composer.model import ChoraleLSTM
from composer.paths import MIDI_SUFFIXES
from composer.vocabulary import Vocabulary

VOICE_INSTRUMENTS = (instrument.Soprano, instrument.Alto, instrument.Tenor, instrument.Bass)
# The network's notes in a drawn score (SVG): a colour, so that they stand out from the melody's.
FILLED_COLOUR = "#b03a2e"


@dataclass
class HarmonizedMelody:
    score: stream.Score  # four named parts, in the melody's key, bar lines as the melody's
    chorale: Chorale  # the same, in frames, in the melody's key
    harmonization: Harmonization  # the model's tokens, in C major / A minor
    semitones: int  # the transposition applied for the model (undone in score and chorale)
    voices: str  # the voices the model filled
    melody_voice: str  # the voice that carries the melody


def harmonize_melody(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    melody: Melody,
    voices: str = "ATB",
    method: str = "beam",
    beam_width: int = 5,
    constraints: bool = True,
    voice_leading: bool = True,
    voice: str | None = None,
) -> HarmonizedMelody:
    """Fill ``voices`` under ``melody`` sung by ``voice`` (default: the one voice that three
    ``voices`` leave)."""
    voice = melody_voice(voices, voice)
    semitones = model_transposition(melody, voice)
    masked = melody_to_tokens(melody, voices, semitones, voice)
    result = harmonize(model, vocab, masked, method, beam_width, constraints, voice_leading)
    chorale = transpose_chorale(tokens_to_chorale(result.tokens), -semitones)
    if chorale.voices[VOICES.index(voice)] != melody.notes:  # harmonize keeps fixed tokens
        raise RuntimeError("the harmonization changed the melody")  # a bug, never the user's
    score = chorale_to_score(chorale, key_signature=melody.key.sharps, phase=melody.phase)
    _dress(score, melody, VOICES.index(voice))
    return HarmonizedMelody(score, chorale, result, semitones, voices.upper(), voice)


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


def marked(musicxml: str, voices: str) -> str:
    """MusicXML text (as music21 writes a score of this module: parts S, A, T, B in order) with
    the notes of ``voices`` in FILLED_COLOUR, for drawing. Done on the text, so that a score
    written once serves both the download and the drawing."""
    parts = re.split(r"(?=<part id=)", musicxml)  # the part-list, then one chunk per part
    if len(parts) != 1 + len(VOICES):
        raise ValueError(f"expected {len(VOICES)} parts in the MusicXML, found {len(parts) - 1}")
    for index, voice in enumerate(VOICES, start=1):
        if voice in voices:
            parts[index] = re.sub(r"<note(?=[ >])", f'<note color="{FILLED_COLOUR}"', parts[index])
    return "".join(parts)


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
