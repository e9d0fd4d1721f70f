"""The admin cannot break the quiz silently: rejecting or taking questions off the quiz asks
first, showing what stays live per category, and refuses to leave a pool that cannot build a
quiz unless overridden; the admin's front page shows the quiz's health."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from bachsurvey.models import Question
from bachsurvey.quiz.health import health

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/bachsurvey/question/"


def act(client: Client, action: str, questions: list[Question], **extra: str) -> Any:
    data = {"action": action, "_selected_action": [str(q.pk) for q in questions], **extra}
    return client.post(CHANGELIST, data, follow=True)


def live_pks() -> set:
    return set(Question.objects.filter(live=True).values_list("pk", flat=True))


def test_health_counts_the_live_pool_and_knows_whether_a_quiz_fits(quiz: list[Question]) -> None:
    now = health()
    assert now.can_build_quiz and now.live["SATB"] == 4 and now.total == len(quiz)
    free = [q for q in quiz if q.category == "SATB"]
    assert health(without=[q.pk for q in free[:2]]).can_build_quiz  # two free ones are enough
    assert not health(without=[q.pk for q in free[:3]]).can_build_quiz


@pytest.mark.parametrize("action", ["take_off_quiz", "reject"])
def test_it_asks_first_and_shows_what_stays_live(
    admin_client: Client, quiz: list[Question], action: str
) -> None:
    one = [q for q in quiz if q.category == "S"][:1]
    before = live_pks()
    page = act(admin_client, action, one).content.decode()
    assert live_pks() == before  # nothing happened yet
    assert 'id="off-quiz-counts"' in page and "off-quiz-warning" not in page
    done = act(admin_client, action, one, confirm="yes").content.decode()
    assert live_pks() == before - {one[0].pk}
    assert "Live now:" in done and "a quiz can be drawn" in done


@pytest.mark.parametrize("action", ["take_off_quiz", "reject"])
def test_it_refuses_to_leave_too_few_for_a_quiz_unless_overridden(
    admin_client: Client, quiz: list[Question], action: str
) -> None:
    free = [q for q in quiz if q.category == "SATB"]
    before = live_pks()
    warning = act(admin_client, action, free).content.decode()
    assert "off-quiz-warning" in warning and 'name="override"' in warning
    refused = act(admin_client, action, free, confirm="yes").content.decode()
    assert "Nothing changed" in refused and live_pks() == before
    act(admin_client, action, free, confirm="yes", override="yes")
    assert live_pks() == before - {q.pk for q in free}


def test_the_front_page_shows_the_quiz_health(admin_client: Client, quiz: list[Question]) -> None:
    page = admin_client.get("/admin/").content.decode()
    assert 'id="quiz-health"' in page and "a quiz can be drawn." in page
    Question.objects.filter(category="AT").update(live=False)
    page = admin_client.get("/admin/").content.decode()
    assert "NO quiz can be drawn" in page
