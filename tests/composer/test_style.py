"""The review's style report: each measure on hand-made chorales, and Bach's own baseline."""

from __future__ import annotations

import pytest

from composer.encoding import Chorale, Note, chorale_to_tokens
from composer.style import corpus_baseline, measure, style_report

FLAT = [1 / 12] * 12


def chorale(*voices: list[tuple[int, int, int]], frames: int = 8) -> Chorale:
    return Chorale(tuple(tuple(Note(s, e, m) for s, e, m in v) for v in voices), frames)


def test_parallel_fifths_and_octaves_are_counted_per_hundred_changes():
    # S and B move C-G -> D-A in similar motion: a parallel fifth (and S/B too: octave+fifth).
    c = chorale(
        [(0, 4, 67), (4, 8, 69)],  # S: G4 -> A4
        [(0, 4, 64), (4, 8, 65)],  # A: E4 -> F4
        [(0, 4, 55), (4, 8, 57)],  # T: G3 -> A3, parallel octaves with S
        [(0, 4, 48), (4, 8, 50)],  # B: C3 -> D3, parallel fifths with S and T
    )
    values = measure(c, FLAT)
    assert values["parallel_fifths"] == 200.0  # two pairs in one change
    assert values["parallel_octaves"] == 100.0


def test_crossings_and_range_and_pitch_class_distance():
    c = chorale(
        [(0, 8, 60)],  # S C4
        [(0, 8, 64)],  # A E4 above the soprano: crossing in every frame
        [(0, 8, 55)],
        [(0, 8, 20)],  # B far below its range
    )
    values = measure(c, FLAT)
    assert values["voice_crossings"] == 1.0
    assert values["out_of_range"] == 0.25
    # Pitch classes C, E, G, G# each a quarter against a flat histogram.
    assert values["pitch_class_distance"] == pytest.approx(0.5 * (4 * (0.25 - 1 / 12) + 8 / 12))


@pytest.mark.slow
def test_bach_scores_near_his_own_baseline(bwv66_6):
    baseline = corpus_baseline()
    assert baseline["chorales"] > 310
    assert baseline["measures"]["parallel_fifths"]["mean"] < 2
    report = style_report(chorale_to_tokens(bwv66_6.chorale), baseline)
    assert set(report) == set(baseline["measures"])
    assert report["pitch_class_distance"]["value"] < 0.2
    assert report["out_of_range"]["unusual"] is False
