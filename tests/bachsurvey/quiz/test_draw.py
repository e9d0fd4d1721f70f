"""bachsurvey.quiz.services.draw_questions: the five questions of a quiz."""

import random
from collections import Counter
from typing import Any

import pytest

from bachsurvey.quiz import services

pytestmark = pytest.mark.django_db

SINGLE = {"S", "A", "T", "B"}


def test_it_draws_one_of_each_kind_and_two_free(quiz: list) -> None:
    for seed in range(30):
        questions = services.draw_questions(random.Random(seed))
        categories = Counter(q.category for q in questions)
        assert sum(categories[c] for c in SINGLE) == 1
        assert (categories["AT"], categories["ATB"], categories["SATB"]) == (1, 1, 2)
        assert len({q.pk for q in questions}) == 5


def test_it_shuffles_the_order(quiz: list) -> None:
    orders = {
        tuple(q.category in SINGLE for q in services.draw_questions(random.Random(seed)))
        for seed in range(30)
    }
    assert len(orders) > 1


def test_it_draws_every_voice(quiz: list) -> None:
    voices = set()
    for seed in range(60):
        voices |= {q.category for q in services.draw_questions(random.Random(seed))} & SINGLE
    assert voices == SINGLE


def test_it_never_plays_one_chorale_twice(make_question: Any) -> None:
    # Harmonizations of two chorales only: a quiz must take AT and ATB from different ones.
    for source in ("bwv101.1", "bwv102.2"):
        for category in ("S", "AT", "ATB"):
            make_question(category, source=source)
    make_question("B", source="bwv103.3")
    make_question("SATB", source="bwv104.4")
    make_question("SATB", source="bwv105.5")
    for seed in range(30):
        questions = services.draw_questions(random.Random(seed))
        chorales = [q.chorales for q in questions]
        assert len(set().union(*chorales)) == sum(len(c) for c in chorales)  # none shared
        assert len({c for c in set().union(*chorales) if c.startswith("bwv")}) == 5
        assert next(q for q in questions if q.category in SINGLE).category == "B"


def test_it_refuses_when_no_quiz_can_be_built(make_question: Any) -> None:
    for category in ("S", "AT", "ATB", "SATB"):
        make_question(category, source="bwv9.6" if category != "SATB" else None)
    make_question("SATB")
    with pytest.raises(services.NotEnoughQuestions):
        services.draw_questions(random.Random(0))
