"""Bach's side is drawn for every assignment from a cryptographic source (issue 16, rule 5).

The earlier rule (the side a question had held less often) let consecutive participants on one
question alternate about 3 times in 4, so a script that saw one quiz could guess the next.
"""

import itertools
import random
from collections import defaultdict

import pytest
from scipy.stats import binomtest

from bachsurvey.models import Assignment
from bachsurvey.quiz import services

pytestmark = pytest.mark.django_db


def start_quizzes(count: int, seed: int = 0) -> None:
    # Every quiz drawn with the same seeded rng: that fixes the questions, not the sides.
    for _ in range(count):
        services.create_participant(age_group="18-25", experience="novice", rng=random.Random(seed))


def test_a_seeded_draw_does_not_fix_the_sides(quiz: list) -> None:
    start_quizzes(40)
    per_question = defaultdict(set)
    for question, side in Assignment.objects.values_list("question", "bach_side"):
        per_question[question].add(side)
    assert len(per_question) == 5  # the same five questions every time...
    assert all(sides == {"A", "B"} for sides in per_question.values())  # ...not the same sides


def test_the_next_participant_s_side_cannot_be_told_from_the_last(quiz: list) -> None:
    start_quizzes(300, seed=None)  # type: ignore[arg-type]
    sides: dict[object, list[str]] = defaultdict(list)
    for question, side in Assignment.objects.order_by("pk").values_list("question", "bach_side"):
        sides[question].append(side)
    same = pairs = 0
    for sequence in sides.values():
        same += sum(a == b for a, b in itertools.pairwise(sequence))
        pairs += len(sequence) - 1
    # About 1,480 consecutive pairs: a fair coin repeats half the time (SD 0.013); the old rule
    # repeated a quarter of the time.
    assert 0.4 < same / pairs < 0.6, (same, pairs)
    bach_on_a = sum(sequence.count("A") for sequence in sides.values())
    total = sum(len(sequence) for sequence in sides.values())
    assert binomtest(bach_on_a, total, 0.5).pvalue > 1e-4, (bach_on_a, total)


def test_draw_sides_uses_the_system_source() -> None:
    random.seed(1)
    first = services.draw_sides(64)
    random.seed(1)
    assert services.draw_sides(64) != first  # the module rng's seed plays no part
    assert set(first) == {"A", "B"}
