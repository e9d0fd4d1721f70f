"""Checks on a user's melody file before music21 reads it, so that a hostile or broken file gets
a clear :class:`MelodyError` in bounded time and memory.

Why each check:

* Size (:data:`MAX_FILE_BYTES`), from the file system before a byte is read.
* Note count (:data:`MAX_NOTE_EVENTS`), counted cheaply in the raw MusicXML or MIDI: music21
  takes milliseconds a note (about 3 ms a MIDI note, 5 ms a MusicXML note on a busy 2-core
  machine), so a 1 MB MIDI file of 100,000 notes would keep it busy for minutes.
* Entity declarations in MusicXML: music21 hands the XML to ElementTree, which expands entities
  declared in the file's DTD; a few nested declarations ("billion laughs") expand to gigabytes.
  No MusicXML needs them (the standard DOCTYPE names an external DTD and declares nothing), so
  any declaration is refused, before expansion. expat (which also checks that the XML is
  well formed, whatever its encoding) reads the file once, with nothing expanded or fetched.
* Compressed MusicXML (.mxl) is a zip: its members' unpacked sizes (:data:`MAX_UNPACKED_BYTES`,
  which also bound what Python's zipfile will unpack) and each XML member as above.

A melody's length in frames is capped by :data:`MAX_MELODY_FRAMES` in :mod:`composer.melody`.
"""

from __future__ import annotations

import zipfile
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
        notes = midi_note_count(path.read_bytes(), path.name)
        _check_note_count(notes, path.name)


def _check_note_count(notes: int, name: str) -> None:
    if notes > MAX_NOTE_EVENTS:
        raise MelodyError(
            f"{name}: more than {MAX_NOTE_EVENTS:,} notes; a melody may last at most "
            f"{MAX_MELODY_FRAMES // (4 * FRAMES_PER_QUARTER)} bars of 4/4"
        )


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
        raise MelodyError(f"{name}: not well-formed XML ({error})") from None


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
        raise MelodyError(f"{path.name}: not a compressed MusicXML (.mxl) file ({error})") from None


# --- MIDI ----------------------------------------------------------------------------------------


def midi_note_count(data: bytes, name: str) -> int:
    """Note-on events in a Standard MIDI File, counted without parsing anything else; stops
    counting past MAX_NOTE_EVENTS. music21 validates the file properly afterwards."""
    if data[:4] != b"MThd":
        raise MelodyError(f"{name}: not a MIDI file (it does not start with MThd)")
    notes = position = 0
    while position + 8 <= len(data) and notes <= MAX_NOTE_EVENTS:
        chunk = data[position : position + 4]
        length = int.from_bytes(data[position + 4 : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 8 + length
        if chunk == b"MTrk":
            notes += _track_note_ons(body)
    return notes


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


def _track_note_ons(track: bytes) -> int:
    count = i = status = 0
    while i < len(track) and count <= MAX_NOTE_EVENTS:  # each pass moves i on by at least one
        _, i = _variable_length(track, i)  # the delta time
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
    return count
