"""The participants' funnel: started, withdrawn, answered each question, finished, abandoned at
question k, in progress; counted from participants built here with known histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from bachsurvey.models import Answer, Assignment, Participant, Question
from bachsurvey.quiz.services import withdraw
from bachsurvey.research.funnel import funnel
from bachsurvey.research.records import DateRange
from tests.bachsurvey.research.data import seed_answers

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def participant(questions: list[Question], answered: int, hours_ago: float, **fields: Any):
    """A participant who started ``hours_ago`` before NOW and answered ``answered`` of five."""
    person = Participant.objects.create(
        consented_at=NOW, age_group="18-25", experience="novice", **fields
    )
    Participant.objects.filter(pk=person.pk).update(created_at=NOW - timedelta(hours=hours_ago))
    for position, question in enumerate(questions[:5]):
        assignment = Assignment.objects.create(
            participant=person, question=question, position=position, bach_side="A"
        )
        if position < answered:
            Answer.objects.create(
                assignment=assignment, choice="A", correct=True, response_ms=900,
                plays={"A": 1, "B": 1}, heard_fully={"A": True, "B": True},
            )  # fmt: skip
    return person


@pytest.fixture
def histories() -> None:
    questions = seed_answers(participants=0).questions  # and one withdrawn participant
    Participant.objects.update(created_at=NOW - timedelta(days=3))
    for _ in range(3):
        participant(questions, 5, hours_ago=5, finished_at=NOW)
    for _ in range(2):
        participant(questions, 2, hours_ago=3)  # left before question 3
    participant(questions, 0, hours_ago=2)  # left before question 1
    participant(questions, 1, hours_ago=0.2)  # still answering
    withdraw(participant(questions, 2, hours_ago=4))


def stage(result: dict[str, Any], name: str) -> int:
    return next(s["n"] for s in result["stages"] if s["stage"] == name)


def test_it_counts_every_stage(histories: None) -> None:
    result = funnel(now=NOW)
    assert result["started"] == 9 and result["withdrawn"] == 2
    assert stage(result, "stayed") == 7
    assert [stage(result, f"answered_{k}") for k in range(1, 6)] == [6, 5, 3, 3, 3]
    assert stage(result, "finished") == 3
    assert {row["question"]: row["n"] for row in result["abandoned"]} == {
        1: 1, 2: 0, 3: 2, 4: 0, 5: 0
    }  # fmt: skip
    assert result["in_progress"] == 1
    assert result["stages"][-1]["share"] == pytest.approx(3 / 7)


def test_a_quiz_left_long_enough_counts_as_abandoned(histories: None) -> None:
    later = funnel(now=NOW + timedelta(hours=2))
    assert later["in_progress"] == 0
    assert later["abandoned"][1]["n"] == 1  # the one still answering, stopped before question 2


def test_it_counts_the_participants_who_started_in_the_range(histories: None) -> None:
    today = funnel(DateRange(NOW.date(), NOW.date()), now=NOW)
    assert today["started"] == 8 and today["withdrawn"] == 1  # not the one three days ago
    nobody = funnel(DateRange(date(2020, 1, 1), date(2020, 1, 2)), now=NOW)
    assert nobody["started"] == 0 and nobody["stages"][0]["share"] is None


def test_the_dashboard_shows_the_funnel(histories: None, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    html = client.get("/research/").content.decode()
    assert '<p id="funnel-started"><strong>9</strong> started' in html
    assert '<strong id="funnel-withdrawn">2</strong>' in html
    assert '<tr id="funnel-finished"><th scope="row">Finished</th><td>3</td>' in html
    # Without a fixed clock every quiz here started hours ago, so all but one count as left.
    assert '<tr id="abandoned-3"><th scope="row">question 3</th><td>2</td>' in html
