"""The corpus recipe: which chorales are kept and why, voices, keys, quantisation, the split."""

from __future__ import annotations

import json

import pytest
from music21 import key, stream

from composer import corpus
from composer.prepare import SPLIT_PATH, make_split

# Why a chorale may be left out; odd part names are never a reason.
ALLOWED_REASONS = ("not in 4/4", "vocal parts", "another version of", "not a chorale")


@pytest.mark.slow
def test_it_keeps_every_four_voice_chorale_in_four_four(corpus_scan, kept):
    excluded = {r.chorale_id: r.reason for r in corpus_scan if isinstance(r, corpus.Exclusion)}
    assert len(kept) > 310
    for chorale_id, reason in excluded.items():
        assert any(allowed in reason for allowed in ALLOWED_REASONS), (chorale_id, reason)
    assert "3/4" in excluded["bwv269"]
    assert "S divided" in excluded["bwv227.3"]
    assert "not a chorale" in excluded["bwv846"]
    # Odd part names are matched: "Soprano\rOboe 1,2\rViolin1", "Bass Continuo", instruments.
    kept_ids = {p.chorale_id for p in kept}
    assert {"bwv66.6", "bwv1.6", "bwv248.9-1"} <= kept_ids
    # One version per BWV number.
    numbers = [corpus.bwv_number(p.chorale_id) for p in kept]
    assert len(numbers) == len(set(numbers))


@pytest.mark.slow
def test_every_kept_chorale_is_four_voices_in_c_major_or_a_minor_on_sixteenths(kept):
    for prepared in kept:
        score = prepared.score
        assert [p.id for p in score.parts] == ["S", "A", "T", "B"]
        found = score.analyze("key")
        assert (found.tonic.pitchClass, found.mode) in ((0, "major"), (9, "minor")), (
            prepared.chorale_id,
            found,
        )
        for n in score.flatten().notesAndRests:
            assert not n.duration.isGrace
            assert (n.offset * 4) == int(n.offset * 4)
            assert (n.quarterLength * 4) == int(n.quarterLength * 4)


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Soprano", "S"),
        ("Soprano\rOboe 1,2\rViolin1", "S"),
        ("S.", "S"),
        ("Alto Oboe 2 Viloin 2", "A"),
        ("Tenor\rViola", "T"),
        ("Bass\rContinuo", "B"),
        ("Basso continuo", None),
        ("Continuo", None),
        ("Horn 2", None),
        ("Timpani", None),
    ],
)
def test_part_names_are_matched_robustly(name, role):
    part = stream.Part()
    part.partName = name
    assert corpus._role_of(part) == role


TONICS = [
    "C",
    "C#",
    "D-",
    "D",
    "D#",
    "E-",
    "E",
    "F",
    "F#",
    "G-",
    "G",
    "G#",
    "A-",
    "A",
    "A#",
    "B-",
    "B",
    "C-",
]


@pytest.mark.parametrize("tonic", TONICS)
@pytest.mark.parametrize("mode", ["major", "minor"])
def test_every_tonic_spelling_moves_to_c_or_a_by_at_most_a_tritone(tonic, mode):
    found = key.Key(tonic, mode)
    shift = corpus.transposition_to_c_or_a(found.tonic.pitchClass, mode)
    assert -6 <= shift <= 6
    assert (found.tonic.pitchClass + shift) % 12 == (0 if mode == "major" else 9)


@pytest.mark.slow
def test_the_committed_split_is_the_seeded_ninety_ten_split_by_chorale(kept):
    split = json.loads(SPLIT_PATH.read_text())
    ids = sorted(p.chorale_id for p in kept)
    assert split == make_split(ids)
    assert not set(split["train"]) & set(split["validation"])
    assert sorted(split["train"] + split["validation"]) == ids
    assert abs(len(split["validation"]) / len(ids) - 0.1) < 0.01
