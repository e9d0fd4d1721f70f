"""User melodies: the three input formats, every refusal, and the transposition round trip (the
melody comes back exactly, in its own key, with three voices added)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from music21 import chord, converter, expressions, key, meter, note, stream

from composer.encoding import Note, parse_note_token, part_to_notes, split_frames
from composer.harmonization.melody import harmonize_melody, write_score
from composer.melody import (
    Melody,
    MelodyError,
    melody_voice,
    model_transposition,
    parse_text_melody,
    read_melody,
)
from composer.model import ChoraleLSTM, ModelConfig
from composer.vocabulary import load_vocabulary

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PART_NAMES = ["Soprano", "Alto", "Tenor", "Bass"]


@pytest.fixture(scope="module")
def vocabulary():
    return load_vocabulary()


@pytest.fixture(scope="module")
def model(vocabulary) -> ChoraleLSTM:
    """Random weights: what is tested here does not depend on how good the harmony is."""
    torch.manual_seed(0)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=1)
    return ChoraleLSTM(config).eval()


def score_file(path: Path, items: list[tuple[str, float]], sharps: int = 0, time="4/4") -> Path:
    """A one-part score: ``(name, quarters)`` items, ``"r"`` a rest, ``"C4 E4"`` a chord; the
    last note under a fermata."""
    part = stream.Part()
    part.append(meter.TimeSignature(time))
    part.append(key.KeySignature(sharps))
    for name, quarters in items:
        if name == "r":
            element = note.Rest(quarterLength=quarters)
        elif " " in name:
            element = chord.Chord(name.split(), quarterLength=quarters)
        else:
            element = note.Note(name, quarterLength=quarters)
        part.append(element)
    element.expressions.append(expressions.Fermata())
    fmt = "midi" if path.suffix == ".mid" else "musicxml"
    stream.Score([part]).write(fmt, fp=str(path))
    return path


def sounding(path: Path, fermatas: bool = True) -> list[Note]:
    """The soprano of a written file, in frames (ties merged)."""
    part = converter.parse(str(path)).parts[0]
    notes = part_to_notes(part, 0)
    return notes if fermatas else [Note(n.start, n.end, n.midi) for n in notes]


# --- the text format ---------------------------------------------------------------------------


def test_the_twinkle_fixture_reads_as_written():
    melody = read_melody(FIXTURES / "twinkle.txt")
    assert str(melody.key) == "C major"
    assert melody.frames == 12 * 16 and len(melody.notes) == 42
    assert melody.notes[:3] == (Note(0, 4, 72), Note(4, 8, 72), Note(8, 12, 79))
    under = [n for n in melody.notes if n.fermata]
    assert [(n.start, n.end - n.start) for n in under] == [(f * 32 + 24, 8) for f in range(6)]


def test_the_text_format_reads_accidentals_durations_rests_and_fermatas():
    melody = parse_text_melody("% a comment\nC5 D#5:0.5 Eb5:1/2 r:2 | bb4:3/4 b4:0.25 C5:3^ % end")
    assert [(n.start, n.end, n.midi, n.fermata) for n in melody.notes] == [
        (0, 4, 72, False),
        (4, 6, 75, False),
        (6, 8, 75, False),
        (16, 19, 70, False),
        (19, 20, 71, False),
        (20, 32, 72, True),
    ]
    assert melody.frames == 32
    assert melody.spelling[75] == "D#5" and melody.spelling[70] == "B-4"


@pytest.mark.parametrize(
    "text, message",
    [
        ("C5 H5", "'H5' is neither a note"),
        ("C5:0.3", "whole number of sixteenths"),
        ("C5:0", "whole number of sixteenths"),
        ("C5:x", "not a duration"),
        ("C5:2 r^", r"'r\^' is neither"),
        ("hello world", "neither a note"),
    ],
)
def test_a_bad_text_item_is_named(text, message):
    with pytest.raises(MelodyError, match=message):
        parse_text_melody(text)


def test_text_bar_lines_must_make_four_four_bars():
    with pytest.raises(MelodyError, match="lasts 3 quarter notes: the text format is 4/4"):
        parse_text_melody("C5 D5 E5 | F5 G5 A5 | B5 C6 D6 |")
    with pytest.raises(MelodyError, match="lasts 5 quarter notes"):
        parse_text_melody("C5 D5 E5 F5 G5 | C5")
    # An upbeat and a short last bar are fine.
    assert len(parse_text_melody("G4 | C5 C5 C5 C5 | C5:2^").notes) == 6


# --- MusicXML and MIDI -------------------------------------------------------------------------


def test_musicxml_and_midi_melodies_read_the_same(tmp_path):
    items = [("E4", 1), ("F#4", 0.5), ("G#4", 0.5), ("r", 1), ("A4", 1), ("B4", 3), ("E5", 1)]
    from_xml = read_melody(score_file(tmp_path / "m.musicxml", items, sharps=4))
    from_midi = read_melody(score_file(tmp_path / "m.mid", items, sharps=4))
    plain = [Note(n.start, n.end, n.midi) for n in from_xml.notes]
    assert list(from_midi.notes) == plain
    assert from_xml.notes[-1].fermata and from_xml.frames == 32
    assert plain[:3] == [Note(0, 4, 64), Note(4, 6, 66), Note(6, 8, 68)]


# --- refusals ----------------------------------------------------------------------------------


def test_a_chord_or_a_second_part_is_not_monophonic(tmp_path):
    with pytest.raises(MelodyError, match="not monophonic: a chord"):
        read_melody(score_file(tmp_path / "c.musicxml", [("C5", 2), ("C5 E5", 2)]))
    part = stream.Part([note.Note("C5", quarterLength=4)])
    two = stream.Score([part, stream.Part([note.Note("E4", quarterLength=4)])])
    two.write("musicxml", fp=str(tmp_path / "two.musicxml"))
    with pytest.raises(MelodyError, match="not monophonic: 2 parts"):
        read_melody(tmp_path / "two.musicxml")


def test_overlapping_notes_are_not_monophonic(tmp_path):
    part = stream.Part()
    part.insert(0, note.Note("C5", quarterLength=2))
    part.insert(1, note.Note("D5", quarterLength=2))
    stream.Score([part]).write("midi", fp=str(tmp_path / "overlap.mid"))
    with pytest.raises(MelodyError, match="not monophonic"):
        read_melody(tmp_path / "overlap.mid")


def test_three_four_is_refused(tmp_path):
    path = score_file(tmp_path / "waltz.musicxml", [("C5", 1)] * 6, time="3/4")
    with pytest.raises(MelodyError, match=r"not in 4/4 \(time signature 3/4\)"):
        read_melody(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("C5:0.5", "shorter than a beat"),
        ("r:4 C5:0.25 r:4", "shorter than a beat"),
        ("r:4", "no notes"),
        ("C3 D3 E3 F3", r"^C3 in bar 1, beat 1 lies outside the soprano range G#3-C6 \(the "),
        ("C5 D5 E5 F5 G5 A5 B5 C6 D6", r"^D6 in bar 3, beat 1 lies outside the soprano range"),
        ("G5 | C5 D5 E5 F5 | Bb5 C6 Db6", r"^Db6 in bar 2, beat 3 lies outside the soprano"),
    ],
)
def test_short_empty_and_out_of_range_melodies_are_refused(text, message, model, vocabulary):
    with pytest.raises(MelodyError, match=message):
        harmonize_melody(model, vocabulary, parse_text_melody(text))


def test_a_melody_pushed_out_of_range_by_transposition_is_refused():
    # F# major: the tonic moves +6 or -6 semitones, and either way an end falls outside.
    melody = Melody((Note(0, 4, 56), Note(4, 8, 84)), 8, key.Key("F#"))
    with pytest.raises(MelodyError, match=r"moved to C major / A minor \(\+6 semitones"):
        model_transposition(melody)


def test_an_octave_the_other_way_is_used_when_the_corpus_rule_leaves_the_range():
    low = Melody((Note(0, 4, 57), Note(4, 8, 74)), 8, key.Key("D"))  # A3..D5 in D major
    assert model_transposition(low) == 10  # -2 would put A3 at G3, below the soprano's range
    assert model_transposition(Melody((Note(0, 4, 62),), 4, key.Key("D"))) == -2


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("garbage.mid", b"\x00\x01not a midi file at all", "unreadable"),
        ("garbage.musicxml", b"<score-partwise><part>", "unreadable"),
        ("garbage.txt", b"\xff\xfe\x00\x81", "unreadable, not a UTF-8"),
        ("garbage.pdf", b"%PDF-1.4", "unknown melody format .pdf"),
    ],
)
def test_an_unreadable_file_is_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MelodyError, match=message):
        read_melody(path)


def test_a_missing_file_and_a_bad_voice_choice_are_refused(tmp_path):
    with pytest.raises(MelodyError, match="no such file"):
        read_melody(tmp_path / "nothing.txt")
    with pytest.raises(MelodyError, match="name the other three"):
        melody_voice("SA")
    assert melody_voice("SAT") == "B"


# --- the round trip ----------------------------------------------------------------------------

ROUND_TRIPS = {
    # key analysed (or its relative), key signature, semitones to C / A, the melody
    "E major": (
        ("E major", "c# minor"),
        4,
        -4,
        [("E4", 1), ("F#4", 1), ("G#4", 1), ("A4", 1), ("B4", 2), ("G#4", 1.75), ("A4", 0.25)]
        + [("r", 1), ("F#4", 1), ("D#4", 0.5), ("E4", 0.5), ("F#4", 3), ("E4", 4)],
    ),
    "E-flat major": (
        ("E- major", "c minor"),
        -3,
        -3,
        [("E-4", 1), ("F4", 1), ("G4", 1), ("A-4", 1), ("B-4", 2), ("G4", 2)]
        + [("A-4", 1), ("F4", 1), ("D4", 0.5), ("E-4", 0.5), ("F4", 1), ("E-4", 4)],
    ),
    "C minor": (
        ("c minor", "E- major"),
        -3,
        -3,
        [("C5", 1), ("D5", 1), ("E-5", 1), ("F5", 1), ("G5", 2), ("E-5", 2)]
        + [("F5", 1), ("D5", 1), ("B4", 0.5), ("C5", 0.5), ("D5", 1), ("C5", 4)],
    ),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_a_melody_in_any_key_comes_back_unchanged(case, tmp_path, model, vocabulary):
    keys, sharps, semitones, items = ROUND_TRIPS[case]
    source = score_file(tmp_path / "melody.musicxml", items, sharps=sharps)
    melody = read_melody(source)
    assert str(melody.key) in keys
    result = harmonize_melody(model, vocabulary, melody, method="beam", beam_width=3)
    assert result.semitones == semitones
    # The model saw the melody in C major / A minor ...
    seen = [parse_note_token(v[0]) for _, v in split_frames(result.harmonization.tokens)]
    written: list[int | None] = [None] * melody.frames  # per frame; None: a rest
    for n in melody.notes:
        written[n.start : n.end] = [n.midi + semitones] * (n.end - n.start)
    assert [p[0] if p else None for p in seen] == written
    # ... and the files hold it back in its own key, exactly, under three new voices.
    assert result.chorale.voices[0] == melody.notes
    xml = write_score(result.score, tmp_path / "out.musicxml")
    midi = write_score(result.score, tmp_path / "out.mid")
    assert sounding(xml) == list(melody.notes)
    assert sounding(midi) == [Note(n.start, n.end, n.midi) for n in melody.notes]
    score = converter.parse(str(xml))
    assert [p.partName for p in score.parts] == PART_NAMES
    assert all(p.flatten().notes for p in score.parts)
    assert score.parts[0].flatten().getElementsByClass(key.KeySignature)[0].sharps == sharps
    names = {n.pitch.nameWithOctave for n in score.parts[0].flatten().notes}
    assert names == {name for name, _ in items if name != "r"}  # spelled as written


def test_the_melody_can_be_the_bass(model, vocabulary):
    melody = parse_text_melody("C3 F3 G3 C3:1^")
    result = harmonize_melody(model, vocabulary, melody, voices="SAT", method="greedy")
    assert result.chorale.voices[3] == melody.notes
    assert all(result.chorale.voices[v] for v in range(3))
