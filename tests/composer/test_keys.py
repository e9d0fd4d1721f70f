"""composer.keys: the key music21's analysis finds, from the frames, without music21."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from music21 import note, stream

from composer import prepare
from composer.encoding import (
    FRAMES_PER_QUARTER,
    Chorale,
    Note,
    tokens_to_chorale,
    transpose_chorale,
)
from composer.keys import NoNotes, key_of
from composer.pairing import window_chorale


def music21_key(chorale: Chorale):
    """The reference: music21's own analysis over the same notes, lengths in quarters."""
    flat = stream.Stream()
    for voice in chorale.voices:
        for n in voice:
            m21 = note.Note(n.midi)
            m21.quarterLength = Fraction(n.end - n.start, FRAMES_PER_QUARTER)
            flat.insert(Fraction(n.start, FRAMES_PER_QUARTER), m21)
    return flat.analyze("key")


def assert_same_key(chorale: Chorale) -> None:
    theirs, mine = music21_key(chorale), key_of(chorale)
    assert (mine.tonic, mine.mode, mine.name) == (
        theirs.tonic.pitchClass,
        theirs.mode,
        str(theirs),
    )
    assert mine.correlation == theirs.correlationCoefficient  # the same sums, in the same order


def test_it_finds_music21s_key_of_corpus_chorales_their_windows_and_other_keys() -> None:
    tokens = prepare.load_tokens()
    rng = random.Random(3)
    for source in rng.sample(sorted(tokens), 40):
        chorale = tokens_to_chorale(tokens[source])
        start = rng.randrange(chorale.frames - 16)
        for case in (
            chorale,
            transpose_chorale(chorale, rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6])),
            window_chorale(chorale, start, min(chorale.frames, start + rng.choice([8, 16, 64]))),
        ):
            assert_same_key(case)


def test_it_finds_music21s_key_of_notes_no_chorale_has() -> None:
    """Random notes of random lengths: histograms far from any key, and near ties."""
    rng = random.Random(5)
    for _ in range(60):
        voices = []
        for low in (60, 55, 48, 40):
            cursor, notes = 0, []
            for _ in range(rng.randint(1, 12)):
                length = rng.randint(1, 9)
                notes.append(Note(rng.randint(low, low + 12), cursor, cursor + length))
                cursor += length + rng.choice([0, 0, 2])
            voices.append(tuple(notes))
        assert_same_key(Chorale(tuple(voices), max(n.end for v in voices for n in v)))


def test_a_tie_goes_as_music21s_goes() -> None:
    """Two notes a tritone apart, equally long: every key ties with its tritone twin; music21
    sorts (correlation, tonic, mode) and takes the last."""
    chorale = Chorale(((Note(60, 0, 4),), (Note(66, 0, 4),), (), ()), 4)
    assert_same_key(chorale)


def test_a_chorale_with_no_notes_has_no_key() -> None:
    with pytest.raises(NoNotes, match="no notes"):
        key_of(Chorale(((), (), (), ()), 4))
