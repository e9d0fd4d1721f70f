"""Checks on a user's melody file before music21 reads it, so that a hostile or broken file gets
a clear :class:`MelodyError` in bounded time and memory.

Why each check:

* Size (:data:`MAX_FILE_BYTES`), from the file system before a byte is read.
* Note count (:data:`MAX_NOTE_EVENTS`), counted cheaply in the raw MusicXML or MIDI: music21
  takes milliseconds a note, so a 1 MB MIDI file of 100,000
  notes would keep it busy for minutes.
* A MIDI file's length in quarter notes, from its delta times: music21 fills the whole length
  with measures and rests, so a single note held for a million quarter notes costs gigabytes.
* Entity declarations in MusicXML: music21 hands the XML to ElementTree, which expands entities
  declared in the file's DTD. expat 2.4 and later stop the classic "billion laughs", but still
  let a file grow a hundredfold (and older builds not at all). No MusicXML needs a declaration
  (the standard DOCTYPE only names an external DTD), so any is refused before expansion. expat
  reads the file once for that, expanding and fetching nothing, and also refuses XML that is not
  well formed, in whatever encoding.
* ABC text: its size, and its note letters counted as an upper bound of its notes (music21's
  ABC reader is as slow per note as the others).
* Compressed MusicXML (.mxl) is a zip: its members' unpacked sizes (:data:`MAX_UNPACKED_BYTES`,
  which also bound what Python's zipfile will unpack) and each XML member as above.

:data:`MAX_MELODY_FRAMES` caps a melody's length in every format; :mod:`composer.melody` applies
it to text melodies item by item and to every melody once read.
"""

from __future__ import annotations

import re
import zipfile
from fractions import Fraction
from pathlib import Path
from xml.parsers import expat

from composer.encoding import FRAMES_PER_QUARTER

# The longest corpus chorale has 916 frames (57 bars): 64 bars of 4/4 hold every Bach melody.
MAX_MELODY_FRAMES = 64 * 4 * FRAMES_PER_QUARTER
MAX_FILE_BYTES = 1_000_000
# Notes and rests that music21 is given to read: a melody of MAX_MELODY_FRAMES frames has at most
# that many notes and as many rests (each at least a frame), plus a few grace notes.
MAX_NOTE_EVENTS = 2 * MAX_MELODY_FRAMES
MAX_UNPACKED_BYTES = 10 * MAX_FILE_BYTES
MAX_ZIP_MEMBERS = 64
MAX_XML_DEPTH = 64  # MusicXML nests about eight deep


class MelodyError(ValueError):
    """A melody that cannot be read or harmonized; the message says why."""


def check_melody_file(path: Path, kind: str) -> None:
    """Refuse ``path`` (kind: "musicxml", "mxl", "midi" or "text") unless it is safe to parse."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise MelodyError(
            f"{path.name}: {size:,} bytes; a melody file may be at most {MAX_FILE_BYTES:,} bytes"
        )
    if kind == "musicxml":
        check_xml(path.read_bytes(), path.name)
    elif kind == "mxl":
        _check_mxl(path)
    elif kind == "midi":
        check_midi(path.read_bytes(), path.name)


def too_long(frames: int | Fraction, where: str) -> MelodyError:
    bars = MAX_MELODY_FRAMES // (4 * FRAMES_PER_QUARTER)
    quarters = f"{float(Fraction(frames) / FRAMES_PER_QUARTER):,.2f}".rstrip("0").rstrip(".")
    return MelodyError(
        f"the melody runs to {quarters} quarter notes {where}; "
        f"the harmonizer takes at most {bars} bars of 4/4 ({bars * 4} quarter notes)"
    )


def _check_note_count(notes: int, name: str) -> None:
    if notes > MAX_NOTE_EVENTS:
        raise MelodyError(
            f"{name}: more than {MAX_NOTE_EVENTS:,} notes; a melody may last at most "
            f"{MAX_MELODY_FRAMES // (4 * FRAMES_PER_QUARTER)} bars of 4/4"
        )


# --- ABC ---------------------------------------------------------------------------------------

# Note letters (and ABC's rests z, x) after the header: more than the notes, never fewer.
_ABC_NOTE = re.compile(r"[A-Ga-gzx]")


def check_abc(text: str) -> None:
    """Not too large, and not too many notes once the header lines (``X:``, ``K:``…) are out."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise MelodyError(
            f"the ABC tune is {size:,} bytes; a melody may be at most {MAX_FILE_BYTES:,} bytes"
        )
    body = "\n".join(
        line.split("%", 1)[0] for line in text.splitlines() if not _ABC_HEADER.match(line)
    )
    _check_note_count(len(_ABC_NOTE.findall(body)), "the ABC tune")


_ABC_HEADER = re.compile(r"^\s*[A-Za-z]:")


# --- MusicXML ------------------------------------------------------------------------------------


def check_xml(data: bytes, name: str) -> None:
    """Well-formed XML, no entity declarations, not too deep, not too many notes."""
    parser = expat.ParserCreate()
    depth = notes = 0

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal depth, notes
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise MelodyError(f"{name}: XML nested over {MAX_XML_DEPTH} deep; not MusicXML")
        if tag == "note":
            notes += 1
            _check_note_count(notes, name)

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1

    def entity(entity_name: str, *_: object) -> None:
        raise MelodyError(
            f"{name}: declares the XML entity {entity_name!r}; entity declarations are refused "
            "(MusicXML needs none, and they can expand without bound)"
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise MelodyError(f"{name}: unreadable, not well-formed XML ({error})") from None


def _check_mxl(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise MelodyError(f"{path.name}: {len(members)} files inside; not MusicXML")
            unpacked = sum(member.file_size for member in members)
            if unpacked > MAX_UNPACKED_BYTES:
                raise MelodyError(
                    f"{path.name}: unpacks to {unpacked:,} bytes; at most "
                    f"{MAX_UNPACKED_BYTES:,} are accepted"
                )
            for member in members:
                if member.filename.lower().endswith((".xml", ".musicxml")):
                    # zipfile stops at the declared size, so this read is bounded.
                    check_xml(archive.read(member), f"{path.name}:{member.filename}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as error:
        raise MelodyError(
            f"{path.name}: unreadable, not a compressed MusicXML (.mxl) file ({error})"
        ) from None


# --- MIDI ----------------------------------------------------------------------------------------


def check_midi(data: bytes, name: str) -> None:
    """Not too many notes, and not too long: music21 fills a MIDI file's whole length with
    measures and rests, so one note held for a million quarter notes costs gigabytes."""
    notes, quarters = midi_summary(data, name)
    _check_note_count(notes, name)
    if quarters * FRAMES_PER_QUARTER > MAX_MELODY_FRAMES:
        raise too_long(quarters * FRAMES_PER_QUARTER, "in its longest track")


def midi_summary(data: bytes, name: str) -> tuple[int, Fraction]:
    """(note-on events, length of the longest track in quarter notes) of a Standard MIDI File,
    read without parsing anything else; counting stops past MAX_NOTE_EVENTS notes. music21
    validates the file properly afterwards."""
    if data[:4] != b"MThd" or len(data) < 14:
        raise MelodyError(
            f"{name}: unreadable, not a MIDI file (it does not start with an MThd header)"
        )
    division = int.from_bytes(data[12:14])
    if division == 0 or division & 0x8000:
        raise MelodyError(f"{name}: MIDI timed in SMPTE frames (or not at all); not supported")
    notes = ticks = 0
    position = 8 + int.from_bytes(data[4:8])
    while position + 8 <= len(data) and notes <= MAX_NOTE_EVENTS:
        chunk = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 8 + length
        if chunk == b"MTrk":
            track_notes, track_ticks = _track_summary(body)
            notes += track_notes
            ticks = max(ticks, track_ticks)
    return notes, Fraction(ticks, division)


def _variable_length(track: bytes, i: int) -> tuple[int, int]:
    """A MIDI variable-length quantity (at most four bytes) at ``i``: (value, next index)."""
    value = 0
    for _ in range(4):
        if i >= len(track):
            break
        byte = track[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value, i


def _track_summary(track: bytes) -> tuple[int, int]:
    """(note-on events, ticks) of one track."""
    count = ticks = i = status = 0
    while i < len(track) and count <= MAX_NOTE_EVENTS:  # each pass moves i on by at least one
        delta, i = _variable_length(track, i)
        ticks += delta
        if i >= len(track):
            break
        if track[i] >= 0x80:
            status = track[i]
            i += 1
        if status in (0xFF, 0xF0, 0xF7):  # meta (with a type byte) or system exclusive
            i += status == 0xFF
            length, i = _variable_length(track, i)
            i += length
            status = 0  # they cancel running status
        elif status >= 0x80:
            kind = status & 0xF0
            if kind == 0x90 and i + 1 < len(track) and track[i + 1] > 0:  # velocity 0: off
                count += 1
            i += 1 if kind in (0xC0, 0xD0) or status > 0xF0 else 2
        else:  # a data byte with no status before it: skip it, music21 will judge the file
            i += 1
    return count, ticks
