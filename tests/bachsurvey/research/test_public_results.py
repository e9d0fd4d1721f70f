"""/results/: everyone's accuracy per kind of question with 95% intervals, for anyone."""

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from bachsurvey.models import Participant

pytestmark = pytest.mark.django_db


def test_it_shows_everyone_per_category_with_intervals(quiz: list, quiz_client: Any) -> None:
    cache.clear()
    data = quiz_client.started(age_group="46-60", experience="expert")
    for question in data["questions"]:
        quiz_client.answer(data["id"], question["id"], choice="A")
    correct = sum(
        a.answer.correct for a in Participant.objects.get(pk=data["id"]).assignments.all()
    )
    page = Client().get("/results/")  # a stranger: no session, no login
    assert page.status_code == 200
    html = page.content.decode()
    assert "Free composition" in html and "95% interval" in html
    assert f"{round(100 * correct / 5)}%" in html and "of 5 answers" in html
    assert "–" in html  # an interval, e.g. 12.3–45.6%
    # No personal data: nothing of the participant, their background or their answers' ids.
    for private in (data["id"], "expert", "46-60", data["questions"][0]["id"]):
        assert private not in html
    assert "public" in page["Cache-Control"] and "max-age" in page["Cache-Control"]
    assert "Cookie" not in page.get("Vary", "")
    assert "Set-Cookie" not in page.headers


def test_it_is_cached(quiz: list, quiz_client: Any) -> None:
    cache.clear()
    assert "No answers yet" in Client().get("/results/").content.decode()
    data = quiz_client.started()
    quiz_client.answer(data["id"], data["questions"][0]["id"])
    # Within the snapshot's lifetime the page is served from the cache as it was.
    assert "No answers yet" in Client().get("/results/").content.decode()
    cache.clear()
    assert "No answers yet" not in Client().get("/results/").content.decode()
