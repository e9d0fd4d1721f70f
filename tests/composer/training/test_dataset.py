"""Training windows and transposition augmentation, on ids."""

from __future__ import annotations

import random

from composer.training.dataset import epoch_stream, transpose_ids, transposition_table
from composer.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()
CHORALE = ["START", "(.)", "(72, False)", "(67, True)", "REST", "(48, False)", "|||", "END"]


def test_a_table_moves_notes_and_keeps_every_other_token():
    ids = VOCABULARY.encode(CHORALE)
    up = transpose_ids(ids, transposition_table(VOCABULARY, 2))
    expected = ["START", "(.)", "(74, False)", "(69, True)", "REST", "(50, False)", "|||", "END"]
    assert VOCABULARY.decode(up) == expected
    assert transpose_ids(ids, transposition_table(VOCABULARY, 0)) == ids


def test_a_shift_that_leaves_the_vocabulary_gives_none():
    highest = VOCABULARY.tokens[-1]  # the highest pitch, tied
    ids = VOCABULARY.encode(["START", highest, "END"])
    assert transpose_ids(ids, transposition_table(VOCABULARY, 1)) is None


def test_an_epoch_stream_is_seeded_and_keeps_every_chorale():
    chorales = [VOCABULARY.encode(CHORALE), VOCABULARY.encode(["START", "|||", "END"])]
    first = epoch_stream(chorales, VOCABULARY, random.Random(3), transpose=3)
    assert first == epoch_stream(chorales, VOCABULARY, random.Random(3), transpose=3)
    assert len(first) == sum(len(c) for c in chorales)
