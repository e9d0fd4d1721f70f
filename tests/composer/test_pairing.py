"""composer.pairing: both clips of a pair start at a phrase start, end right after a fermata,
last exactly as long, and sit in one key (issue 16, rules 1 and 6)."""

from __future__ import annotations

import random

import pytest

from composer import prepare
from composer.encoding import (
    Chorale,
    Note,
    fermata_frames,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.keys import key_of
from composer.pairing import (
    BachWindows,
    Window,
    bach_windows,
    begins_silent,
    common_shifts,
    ends_on_fermata,
    harmonization_windows,
    in_range,
    key_name,
    key_signature,
    normalise_key,
    phrase_ends,
    phrase_starts,
    piece_cuts,
    window_chorale,
)

IDS = ("bwv66.6", "bwv1.6", "bwv10.7", "bwv101.7", "bwv102.7", "bwv103.6", "bwv104.6", "bwv108.6",
       "bwv113.8", "bwv110.7", "bwv111.6", "bwv114.7")  # fmt: skip


@pytest.fixture(scope="module")
def chorales() -> dict[str, Chorale]:
    """A dozen prepared chorales (C major / A minor), as the batches read them."""
    tokens = prepare.load_tokens()
    return {source: tokens_to_chorale(tokens[source]) for source in IDS}


def chord(start: int, end: int, pitches: tuple[int, int, int, int], fermata: bool = False):
    return [Note(start, end, p, fermata) for p in pitches]


def toy() -> Chorale:
    """Three phrases: frames 0-7 (fermata on 4-7), 8-15 (fermata on 12-15), 16-19."""
    chords = [
        chord(0, 4, (72, 67, 64, 48)),
        chord(4, 8, (71, 67, 62, 55), fermata=True),
        chord(8, 12, (72, 64, 60, 57)),
        chord(12, 16, (72, 67, 64, 48), fermata=True),
        chord(16, 20, (74, 65, 62, 50)),
    ]
    voices = tuple(tuple(c[v] for c in chords) for v in range(4))
    return Chorale(voices, 20)


def test_phrases_start_at_the_beginning_and_after_each_fermata() -> None:
    assert phrase_ends(toy()) == [8, 16]
    assert phrase_starts(toy()) == [0, 8, 16]


def test_a_window_is_a_chorale_of_its_own_frames() -> None:
    window = window_chorale(toy(), 6, 14)
    assert window.frames == 8
    soprano = window.voices[0]
    assert [(n.start, n.end, n.midi) for n in soprano] == [(0, 2, 71), (2, 6, 72), (6, 8, 72)]
    assert fermata_frames(window) == {0, 1, 6, 7}
    assert ends_on_fermata(window) and not ends_on_fermata(window_chorale(toy(), 6, 11))
    with pytest.raises(ValueError, match="outside"):
        window_chorale(toy(), 10, 21)


def test_bach_windows_run_from_a_phrase_start_to_right_after_a_fermata() -> None:
    assert bach_windows(toy(), "x", 8) == [Window("x", 0, 8), Window("x", 8, 16)]
    assert bach_windows(toy(), "x", 16) == [Window("x", 0, 16)]
    assert bach_windows(toy(), "x", 12) == []


def test_real_windows_all_end_on_a_cadence(chorales: dict[str, Chorale]) -> None:
    found = 0
    for source, chorale in chorales.items():
        for frames in (32, 48, 64):
            for window in bach_windows(chorale, source, frames):
                excerpt = window_chorale(chorale, window.start, window.end)
                assert excerpt.frames == frames
                assert ends_on_fermata(excerpt) and not begins_silent(excerpt)
                assert window.start in phrase_starts(chorale)
                found += 1
    assert found > 20


def test_the_network_s_piece_is_cut_after_its_own_fermatas(chorales: dict[str, Chorale]) -> None:
    piece = chorales["bwv66.6"]
    cuts = piece_cuts(piece, 64)
    assert cuts == sorted(cuts, reverse=True) and cuts
    for frames in cuts:
        assert 32 <= frames <= 64
        assert ends_on_fermata(window_chorale(piece, 0, frames))
    assert piece_cuts(toy(), 16) == [16, 8] and piece_cuts(toy(), 12) == [8]


def test_harmonization_windows_end_after_a_fermata_where_one_lies_in_range(
    chorales: dict[str, Chorale],
) -> None:
    # From frame 16 no fermata lies in range and 12 frames do not fit: no window there.
    assert harmonization_windows(toy(), "x", 12) == [Window("x", 0, 8), Window("x", 8, 16)]
    assert harmonization_windows(toy(), "x", 6) == [Window("x", 0, 6), Window("x", 8, 14)]
    for source, chorale in chorales.items():
        for window in harmonization_windows(chorale, source, 64):
            assert 32 <= window.frames <= 64
            excerpt = window_chorale(chorale, window.start, window.end)
            fermata_in_range = any(window.start + 32 <= e <= window.start + 64
                                   for e in phrase_ends(chorale))  # fmt: skip
            assert ends_on_fermata(excerpt) == fermata_in_range or window.frames == 64


def test_overlapping_windows_of_one_chorale_are_the_same_bach() -> None:
    a = Window("x", 0, 32)
    assert a.overlaps(Window("x", 16, 48)) and not a.overlaps(Window("x", 32, 64))
    assert not a.overlaps(Window("y", 0, 32))


@pytest.mark.parametrize("shift", [-5, -2, 0, 3, 6])
def test_a_piece_in_any_key_is_moved_to_c_major_or_a_minor(
    chorales: dict[str, Chorale], shift: int
) -> None:
    for source in ("bwv66.6", "bwv1.6"):  # the corpus is in C major / A minor already
        bach = chorales[source]
        moved, semitones, mode = normalise_key(transpose_chorale(bach, shift))
        assert semitones == -shift and moved == bach
        assert mode == key_of(bach).mode


def test_a_pair_is_moved_to_one_key_that_every_voice_can_sing(
    chorales: dict[str, Chorale],
) -> None:
    pair = [window_chorale(chorales["bwv66.6"], 0, 32), window_chorale(chorales["bwv1.6"], 0, 32)]
    shifts = common_shifts(pair)
    assert 0 in shifts and len(shifts) > 1
    for shift in shifts:
        assert shift == 0 or all(in_range(c, shift) for c in pair)
    high = Chorale(tuple((Note(0, 4, p),) for p in (81, 76, 71, 64)), 4)  # every voice at its top
    assert common_shifts([high]) == [s for s in range(-5, 7) if s <= 0]


def test_keys_are_named_and_signed() -> None:
    assert key_name("major", 2) == "D major" and key_name("minor", -2) == "G minor"
    assert [key_signature(s) for s in (0, 2, -2, 6, 1)] == [0, 2, -2, 6, -5]


def test_a_free_piece_gets_an_unused_bach_window_of_its_length_and_mode(
    chorales: dict[str, Chorale],
) -> None:
    index = BachWindows(chorales)
    piece, _, mode = normalise_key(transpose_chorale(chorales["bwv66.6"], 3))
    used: list[Window] = []
    for seed in range(6):
        pair = index.pair(piece, mode, 64, used, random.Random(seed))
        assert pair is not None
        assert pair.frames in piece_cuts(piece, 64) and pair.window.frames == pair.frames
        assert index.mode(pair.window.source) == mode
        assert ends_on_fermata(window_chorale(chorales[pair.window.source], pair.window.start,
                                              pair.window.end))  # fmt: skip
        assert not any(pair.window.overlaps(w) for w in used)
        used.append(pair.window)
    everything = [Window(s, 0, c.frames) for s, c in chorales.items()]
    assert index.pair(piece, mode, 64, everything, random.Random(0)) is None
