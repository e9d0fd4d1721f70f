"""composer.render.notation: a chorale's MusicXML written from its frames, and its SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from fractions import Fraction

import pytest
from music21 import clef, converter, expressions, key, meter, stream

from bachsurvey.generation.music import SVG_OPTIONS
from composer import prepare
from composer.encoding import (
    BAR_FRAMES,
    FRAMES_PER_QUARTER,
    VOICE_NAMES,
    Chorale,
    EncodingError,
    Note,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.pairing import SHIFTS, bach_windows, key_signature, window_chorale
from composer.render.notation import chorale_to_musicxml, spelling_table
from composer.render.svg import chorale_to_svg

WINDOW = 64  # frames of a survey clip
CASES = 30
PHASES = (0, 12, 8)
# What each written note value must look like: frames -> (type, dots).
VALUES = {
    1: ("16th", 0),
    2: ("eighth", 0),
    3: ("eighth", 1),
    4: ("quarter", 0),
    6: ("quarter", 1),
    8: ("half", 0),
    12: ("half", 1),
    16: ("whole", 0),
}
ALTER = {"sharp": 1, "flat": -1, "natural": 0}


@pytest.fixture(scope="module")
def windows() -> list[Chorale]:
    """CASES survey-sized windows spread over the corpus (C major / A minor), each a phrase
    ending on a fermata where the chorale has one of that length."""
    tokens = prepare.load_tokens()
    sources = sorted(tokens)
    picked = []
    for source in sources[:: len(sources) // CASES][:CASES]:
        chorale = tokens_to_chorale(tokens[source])
        found = bach_windows(chorale, source, WINDOW)
        start, end = (found[0].start, found[0].end) if found else (0, WINDOW)
        picked.append(window_chorale(chorale, start, end))
    return picked


def case(i: int) -> tuple[int, int]:
    """Window i's shift (key signatures -5..+6 in turn) and phase (0, 12, 8 in turn)."""
    return SHIFTS[i % len(SHIFTS)], PHASES[i % len(PHASES)]


# --- what the text says, read back by music21 ----------------------------------------------------


@pytest.mark.parametrize("i", range(CASES))
def test_music21_reads_back_the_chorale(windows, i):
    shift, phase = case(i)
    chorale = transpose_chorale(windows[i], shift)
    signature = key_signature(shift)
    score = converter.parse(chorale_to_musicxml(chorale, signature, phase), format="musicxml")
    parts = list(score.parts)
    assert [p.partName for p in parts] == list(VOICE_NAMES)
    for part, notes in zip(parts, chorale.voices, strict=True):
        assert _read_notes(part) == list(notes)
        assert _rest_frames(part) == _silent_frames(notes, chorale.frames)
        assert part.flatten().getElementsByClass(key.KeySignature)[0].sharps == signature
        assert part.flatten().getElementsByClass(meter.TimeSignature)[0].ratioString == "4/4"
        assert _bars(part) == _expected_bars(chorale.frames, phase)


def test_clefs_are_the_singers(windows):
    score = converter.parse(chorale_to_musicxml(windows[0]), format="musicxml")
    clefs = [type(part.flatten().getElementsByClass(clef.Clef)[0]) for part in score.parts]
    assert clefs == [clef.TrebleClef, clef.TrebleClef, clef.Treble8vbClef, clef.BassClef]


def _read_notes(part: stream.Part) -> list[Note]:
    """The part's notes in frames, tied pieces joined by music21."""
    notes = []
    for n in part.stripTies().flatten().notes:
        start = _frames(n.offset)
        fermata = any(isinstance(e, expressions.Fermata) for e in n.expressions)
        notes.append(Note(start, start + _frames(n.quarterLength), n.pitch.midi, fermata))
    return notes


def _rest_frames(part: stream.Part) -> set[int]:
    rests = part.flatten().getElementsByClass("Rest")
    return {f for r in rests for f in range(_frames(r.offset), _frames(r.offset + r.quarterLength))}


def _silent_frames(notes: tuple[Note, ...], frames: int) -> set[int]:
    return set(range(frames)) - {f for n in notes for f in range(n.start, n.end)}


def _bars(part: stream.Part) -> list[tuple[int, int, int]]:
    """(number, first frame, frames) of each measure as music21 reads it."""
    return [
        (m.number, _frames(m.offset), _frames(m.duration.quarterLength))
        for m in part.getElementsByClass(stream.Measure)
    ]


def _expected_bars(frames: int, phase: int) -> list[tuple[int, int, int]]:
    """A pickup of BAR_FRAMES - phase frames numbered 0 when there is a phase, whole bars
    numbered on from there, and a last bar as long as what is left."""
    bars, start, number = [], 0, 0 if phase else 1
    length = BAR_FRAMES - phase
    while start < frames:
        bars.append((number, start, min(length, frames - start)))
        start, number, length = start + length, number + 1, BAR_FRAMES
    return bars


def _frames(quarters: float | Fraction) -> int:
    value = Fraction(quarters) * FRAMES_PER_QUARTER
    assert value.denominator == 1, f"{quarters} quarters is not a whole number of frames"
    return int(value)


# --- the written notes themselves ----------------------------------------------------------------


@pytest.mark.parametrize("i", range(0, CASES, 5))
def test_every_written_note_is_one_plain_value_inside_its_measure(windows, i):
    shift, phase = case(i)
    text = chorale_to_musicxml(transpose_chorale(windows[i], shift), key_signature(shift), phase)
    for measures in _written(text).values():
        for number, notes in measures:
            assert sum(n["frames"] for n in notes) <= BAR_FRAMES, f"measure {number} overflows"
            for n in notes:
                if not n["measure_rest"]:
                    assert VALUES[n["frames"]] == (n["type"], n["dots"])


def test_a_long_note_is_tied_across_the_bar_with_its_fermata_on_the_last_piece():
    soprano = (Note(0, 12, 72), Note(12, 23, 74, fermata=True), Note(23, 32, 72))
    measures = _written(chorale_to_musicxml(_solo(soprano, 32)))["S"]
    (_, first), (_, second) = measures
    held = [first[-1], second[0], second[1]]  # D5: a quarter, then 6 + 1 frames in bar 2
    assert [n["frames"] for n in held] == [4, 6, 1]
    assert [n["ties"] for n in held] == [["start"], ["stop", "start"], ["stop"]]
    assert [n["fermata"] for n in held] == [False, False, True]


def test_a_whole_bar_of_silence_is_a_measure_rest_and_a_short_one_a_plain_rest():
    parts = _written(chorale_to_musicxml(_solo((Note(16, 28, 72),), 32)))
    (_, first), (_, second) = parts["S"]
    assert [(n["measure_rest"], n["frames"]) for n in first] == [(True, 16)]
    assert [(n["measure_rest"], n["frames"], n["type"]) for n in second[1:]] == [
        (False, 4, "quarter")
    ]
    assert all(n["measure_rest"] for _, notes in parts["B"] for n in notes)


def test_eighths_and_sixteenths_are_beamed_by_the_beat():
    soprano = tuple(
        Note(start, end, 72)
        for start, end in [(0, 2), (2, 4), (4, 7), (7, 8), (8, 9), (9, 10), (10, 12), (12, 14)]
    ) + (Note(14, 16, 74),)
    notes = _written(chorale_to_musicxml(_solo(soprano, 16)))["S"][0][1]
    assert [n["beams"] for n in notes] == [
        [(1, "begin")],
        [(1, "end")],
        [(1, "begin")],
        [(1, "end"), (2, "backward hook")],
        [(1, "begin"), (2, "begin")],
        [(1, "continue"), (2, "end")],
        [(1, "end")],
        [(1, "begin")],
        [(1, "end")],
    ]


def test_a_note_across_a_beat_keeps_its_flag():
    # An eighth, a dotted eighth across beats 1-2, then a sixteenth and an eighth inside beat 2.
    soprano = (Note(0, 2, 72), Note(2, 5, 74), Note(5, 6, 76), Note(6, 8, 77))
    notes = _written(chorale_to_musicxml(_solo(soprano, 8)))["S"][0][1]
    assert [n["beams"] for n in notes] == [
        [],
        [],
        [(1, "begin"), (2, "forward hook")],
        [(1, "end")],
    ]


def test_pickup_measure_is_implicit_and_the_last_bar_ends_the_piece():
    text = chorale_to_musicxml(_solo((Note(0, 20, 72),), 20), phase=12)
    root = ElementTree.fromstring(text)
    for part in root.iter("part"):
        measures = part.findall("measure")
        assert [(m.get("number"), m.get("implicit")) for m in measures] == [
            ("0", "yes"),
            ("1", None),
        ]
        assert measures[-1].find("barline/bar-style").text == "light-heavy"


def test_the_text_holds_the_music_and_nothing_else(windows):
    """The same chorale gives the same text (no date, software or random id): a Bach window and a
    generated one could differ only in their notes."""
    text = chorale_to_musicxml(windows[1], -2, 12)
    assert text == chorale_to_musicxml(windows[1], -2, 12)
    for telltale in ("<identification", "<movement-title", "<work", "<credit", "encoding-date"):
        assert telltale not in text


def test_it_refuses_what_it_cannot_write(windows):
    with pytest.raises(EncodingError, match="phase"):
        chorale_to_musicxml(windows[0], phase=16)
    with pytest.raises(EncodingError, match="key signature"):
        chorale_to_musicxml(windows[0], key_signature=8)
    with pytest.raises(EncodingError, match="overlaps"):
        chorale_to_musicxml(_solo((Note(0, 8, 72), Note(4, 12, 74)), 16))


# --- spelling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", range(-7, 8))
def test_the_scale_is_spelled_as_the_key_signature_says(signature):
    """In a flat key no note of the scale is a sharp (A flat in E flat major, never G sharp), in
    a sharp key none is a flat; each letter appears once among the scale's pitch classes."""
    table = spelling_table(signature)
    major_tonic = (7 * signature) % 12
    scale = [table[(major_tonic + step) % 12] for step in (0, 2, 4, 5, 7, 9, 11)]
    assert sorted(step for step, _ in scale) == sorted("ABCDEFG")
    alters = {alter for _, alter in scale}
    assert alters <= ({0, -1} if signature < 0 else {0, 1})
    assert sum(1 for _, alter in scale if alter) == abs(signature)


@pytest.mark.parametrize("signature", range(-7, 8))
def test_every_pitch_class_has_one_plain_spelling(signature):
    table = spelling_table(signature)
    assert all(abs(alter) <= 1 for _, alter in table)
    natural = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
    assert [(natural[step] + alter) % 12 for step, alter in table] == list(range(12))


def test_chromatic_notes_are_spelled_as_the_key_uses_them():
    """The minor key's leading tone is raised, whatever side the signature is on: D minor writes
    C sharp, G minor F sharp, C minor B natural; C major writes B flat and F sharp."""
    assert spelling_table(-1)[1] == ("C", 1)
    assert spelling_table(-2)[6] == ("F", 1)
    assert spelling_table(-3)[11] == ("B", 0)
    assert spelling_table(-3)[8] == ("A", -1)  # the old path wrote G sharp here
    assert spelling_table(0)[10] == ("B", -1)
    assert spelling_table(0)[6] == ("F", 1)


def test_in_a_flat_key_only_chromatic_notes_are_written_sharp(windows):
    """Across flat-key windows, every written sharp is a chromatic note (off the key's scale)."""
    for i in range(CASES):
        shift, phase = case(i)
        signature = key_signature(shift)
        if signature >= 0:
            continue
        text = chorale_to_musicxml(transpose_chorale(windows[i], shift), signature, phase)
        scale = {(7 * signature + step) % 12 for step in (0, 2, 4, 5, 7, 9, 11)}
        for measures in _written(text).values():
            for _, notes in measures:
                for n in notes:
                    if n["alter"] == 1:
                        assert n["pitch_class"] not in scale


def test_an_accidental_is_shown_once_per_measure_and_cancelled_by_a_natural():
    # C major: F sharp twice, F natural, F sharp; then bar 2 F sharp again; F sharp 5 is another
    # octave and shows its own.
    soprano = (
        Note(0, 4, 66),
        Note(4, 8, 66),
        Note(8, 10, 65),
        Note(10, 12, 66),
        Note(12, 16, 78),
        Note(16, 20, 66),
    )
    measures = _written(chorale_to_musicxml(_solo(soprano, 20)))["S"]
    assert [n["accidental"] for n in measures[0][1]] == [
        "sharp",
        None,
        "natural",
        "sharp",
        "sharp",
    ]
    assert [n["accidental"] for n in measures[1][1]] == ["sharp"]


def test_a_note_against_the_signature_shows_a_natural_and_a_tied_note_shows_none():
    # E flat major (three flats): A natural, tied into bar 2, then A natural again in bar 2.
    soprano = (Note(0, 12, 60), Note(12, 20, 69), Note(20, 24, 69), Note(24, 28, 68))
    measures = _written(chorale_to_musicxml(_solo(soprano, 28), key_signature=-3))["S"]
    first, second = measures[0][1], measures[1][1]
    assert [(n["step"], n["alter"], n["accidental"]) for n in first] == [
        ("C", 0, None),
        ("A", 0, "natural"),
    ]
    assert [(n["step"], n["alter"], n["accidental"]) for n in second] == [
        ("A", 0, None),  # tied over: no sign
        ("A", 0, "natural"),  # a new note in a new bar: shown again
        ("A", -1, "flat"),  # back to the signature's A flat: cancelled
    ]


# --- the picture ---------------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(0, CASES, 3))
def test_verovio_draws_a_survey_clip_on_one_page(windows, i):
    shift, phase = case(i)
    chorale = transpose_chorale(windows[i], shift)
    pages = chorale_to_svg(chorale, key_signature(shift), phase, SVG_OPTIONS)
    assert len(pages) == 1
    assert pages[0].lstrip().startswith("<svg") and 'class="measure"' in pages[0]


# --- helpers -------------------------------------------------------------------------------------


def _solo(soprano: tuple[Note, ...], frames: int) -> Chorale:
    """A chorale whose soprano sings ``soprano`` and whose other voices rest."""
    return Chorale((soprano, (), (), ()), frames)


def _written(text: str) -> dict[str, list[tuple[str, list[dict]]]]:
    """Per part id, per measure (number, notes): what each <note> says, read with ElementTree."""
    root = ElementTree.fromstring(text)
    return {
        part.get("id"): [
            (m.get("number"), [_note(n) for n in m.findall("note")])
            for m in part.findall("measure")
        ]
        for part in root.findall("part")
    }


def _note(element: ElementTree.Element) -> dict:
    rest = element.find("rest")
    accidental = element.find("accidental")
    found = {
        "step": element.findtext("pitch/step"),
        "alter": int(element.findtext("pitch/alter") or 0),
        "octave": element.findtext("pitch/octave"),
        "frames": int(element.findtext("duration")),
        "type": element.findtext("type"),
        "dots": len(element.findall("dot")),
        "accidental": accidental.text if accidental is not None else None,
        "ties": [tie.get("type") for tie in element.findall("tie")],
        "fermata": element.find("notations/fermata") is not None,
        "measure_rest": rest is not None and rest.get("measure") == "yes",
        "beams": [(int(b.get("number")), b.text) for b in element.findall("beam")],
    }
    if accidental is not None:  # the sign agrees with the pitch it marks
        assert ALTER[accidental.text] == found["alter"]
    if found["step"] is not None:
        natural = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[found["step"]]
        found["pitch_class"] = (natural + found["alter"]) % 12
    return found
