"""composer.judge: a classifier on the notes alone, cross-validated by piece. It must not tell
Bach from Bach, and must tell a deliberately bad generator from Bach."""

from __future__ import annotations

import json

import pytest

from composer.__main__ import main
from composer.encoding import Chorale, Note
from composer.judge.features import features
from composer.judge.verdict import judge
from composer.render.excerpt import excerpt, read_chorale
from tests.composer.render import stand_ins

FRAMES = 64


def test_it_counts_parallel_fifths_and_octaves_between_any_two_voices():
    # S and B move in parallel octaves (C->D), A and T in parallel fifths (G->A over C->D).
    s = (Note(0, 4, 72), Note(4, 8, 74))
    a = (Note(0, 4, 67), Note(4, 8, 69))
    t = (Note(0, 4, 60), Note(4, 8, 62))
    b = (Note(0, 4, 48), Note(4, 8, 50))
    found = features(Chorale((s, a, t, b), 8))
    # One chord change; pairs S-T, S-B, T-B are octaves, S-A, A-T, A-B fifths or fourths.
    assert found["parallel octaves"] == 3
    assert found["parallel fifths"] == 2  # A-T and A-B (S-A is a fourth)
    assert found["bass ends on the tonic"] == 0.0  # D


@pytest.mark.slow  # the corpus scan (shared with the corpus tests)
def test_it_cannot_tell_bach_from_bach(kept):
    chorales = [excerpt(r.chorale, FRAMES)[0] for r in kept[:80]]
    verdict = judge(chorales[:40], chorales[40:])
    low, high = verdict.interval
    assert low <= 0.5 <= high, verdict


@pytest.mark.slow
def test_it_tells_random_walks_from_bach(kept):
    bach = [excerpt(r.chorale, FRAMES)[0] for r in kept[:30]]
    walks = [excerpt(read_chorale(stand_ins.generated_stand_in(s)), FRAMES)[0] for s in range(30)]
    verdict = judge(bach, walks)
    assert verdict.accuracy > 0.8 and verdict.interval[0] > 0.5, verdict
    assert verdict.tells and all(t.endswith("than Bach") for t in verdict.tells)


def test_it_needs_enough_excerpts_a_side():
    one = [Chorale(((Note(0, 4, 60),), (), (), ()), 4)]
    with pytest.raises(ValueError, match="at least 5 excerpts a side"):
        judge(one * 3, one * 10)


def test_the_command_ends_with_one_json_line(capsys):
    code = main(["judge", "--n", "5", "--json"])  # the shipped composer, five pieces
    assert code == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"accuracy", "interval", "n", "per_category", "tells"} <= set(last)
    assert last["n"] == 5 + 35  # five pieces against the 35 held-out chorales
