"""Melodies in ABC, and melodies sent as bytes (the web page's text and files): each reads as the
same notes as the text format, with its upbeat, and each is guarded like a file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from music21 import expressions, meter, note, stream

from composer.melody import MelodyError, parse_abc_melody, parse_text_melody, read_melody_data
from composer.melody_guard import MAX_FILE_BYTES, MAX_NOTE_EVENTS

TEXT = "G4 | C5 C5 D5 E5 | D5:2 B4:0.5 C5:0.5 D5 | C5:3^"
ABC = """X:1
T:an upbeat
M:4/4
L:1/4
K:C
"^up"G | c c d e | d2 B/2c/2 d | Hc3 |]
"""


def musicxml_bytes(tmp_path: Path, pickup: bool = True) -> bytes:
    """TEXT as a MusicXML file written by music21: a pickup measure, then whole bars."""
    part = stream.Part()
    bars = [[("G4", 1)], [("C5", 1), ("C5", 1), ("D5", 1), ("E5", 1)]]
    bars += [[("D5", 2), ("B4", 0.5), ("C5", 0.5), ("D5", 1)], [("C5", 3)]]
    for number, items in enumerate(bars if pickup else bars[1:], start=0 if pickup else 1):
        measure = stream.Measure(number=number)
        if number == bars.index(bars[0]) and pickup:
            measure.paddingLeft = 3.0
        if measure.number in (0, 1) and not part.getElementsByClass(stream.Measure):
            measure.insert(0, meter.TimeSignature("4/4"))
        for name, quarters in items:
            measure.append(note.Note(name, quarterLength=quarters))
        part.append(measure)
    part.flatten().notes[-1].expressions.append(expressions.Fermata())
    path = tmp_path / "melody.musicxml"
    stream.Score([part]).write("musicxml", fp=str(path))
    return path.read_bytes()


def test_abc_reads_as_the_same_notes_and_upbeat_as_text() -> None:
    text, abc = parse_text_melody(TEXT), parse_abc_melody(ABC)
    assert abc.notes == text.notes  # the fermata (H) too, which music21 alone would drop
    assert abc.phase == text.phase == 12
    assert parse_abc_melody(ABC.replace("Hc3", "!fermata!c3")).notes == text.notes
    assert not parse_abc_melody(ABC.replace("Hc3", "c3")).notes[-1].fermata


def test_musicxml_with_a_pickup_measure_reads_its_upbeat(tmp_path: Path) -> None:
    melody = read_melody_data(musicxml_bytes(tmp_path), "musicxml")
    assert melody.notes == parse_text_melody(TEXT).notes
    assert melody.phase == 12
    assert read_melody_data(musicxml_bytes(tmp_path, pickup=False), "musicxml").phase == 0


def test_bytes_of_every_format_read_as_the_file_would(tmp_path: Path) -> None:
    expected = parse_text_melody(TEXT)
    assert read_melody_data(TEXT.encode(), "text").notes == expected.notes
    assert read_melody_data(ABC.encode(), "abc").notes == expected.notes
    midi = tmp_path / "melody.mid"
    stream.Score([stream.Part(list(expected_notes(expected)))]).write("midi", fp=str(midi))
    from_midi = read_melody_data(midi.read_bytes(), "midi")
    assert [(n.start, n.end, n.midi) for n in from_midi.notes] == [
        (n.start, n.end, n.midi) for n in expected.notes
    ]
    assert from_midi.phase == 0  # MIDI has no bar lines to tell an upbeat by


def expected_notes(melody):  # type: ignore[no-untyped-def]
    for n in melody.notes:
        yield note.Note(n.midi, quarterLength=(n.end - n.start) / 4)


@pytest.mark.parametrize(
    "data, fmt, message",
    [
        (b"C5 D5", "pdf", "unknown melody format 'pdf'"),
        (b"x" * (MAX_FILE_BYTES + 1), "text", "a melody may be at most 1,000,000 bytes"),
        (b"C5 D5 Q5", "text", "item 'Q5' is neither a note"),
        (b"\xff\xfe", "text", "not a UTF-8 text file"),
        (b"<score-partwise", "musicxml", "not well-formed XML"),
        (b"MThd", "midi", "not a MIDI file"),
        (base64.b64encode(b"MThd"), "midi", "not a MIDI file"),
    ],
)
def test_bad_bytes_are_refused_with_the_reason(data: bytes, fmt: str, message: str) -> None:
    with pytest.raises(MelodyError, match=message):
        read_melody_data(data, fmt)


def test_abc_is_guarded_and_must_be_four_four() -> None:
    many = "X:1\nM:4/4\nL:1/16\nK:C\n" + "c" * (MAX_NOTE_EVENTS + 1)
    with pytest.raises(MelodyError, match="the ABC tune: more than 2,048 notes"):
        parse_abc_melody(many)
    with pytest.raises(MelodyError, match=r"not in 4/4 \(time signature 3/4\)"):
        parse_abc_melody("X:1\nM:3/4\nL:1/4\nK:C\nc d e | c d e |]\n")
    with pytest.raises(MelodyError, match="not monophonic: a chord at bar 2, beat 3/2"):
        parse_abc_melody("X:1\nM:4/4\nL:1/4\nK:C\nc4 | c/2[ce]/2 d e2 |]\n")
    with pytest.raises(MelodyError, match="not monophonic: a chord at bar 1, beat 2"):
        parse_abc_melody("X:1\nM:4/4\nL:1/4\nK:C\nc [ce] d e\n")  # no bar line
