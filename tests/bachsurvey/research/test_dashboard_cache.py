"""The dashboard's figures are cached on a fingerprint of the answers: a load when nothing has
changed reads no answer and fits no model; any new, deleted or withdrawn answer, and another
query, gives figures of their own; a cache that fails costs speed, never the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bachsurvey.models import Answer, Participant
from bachsurvey.quiz.services import withdraw
from bachsurvey.research import report
from tests.bachsurvey.research.data import Seeded

pytestmark = pytest.mark.django_db


def load(client: Client, **query: str) -> tuple[str, list[str]]:
    """The page, and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/research/", query)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def reads_answers(sql: list[str]) -> bool:
    """Whether the records were read (the only query that selects the answers' response time)."""
    return any('"response_ms"' in statement for statement in sql)


def test_an_unchanged_dashboard_comes_from_the_cache(
    seeded: Seeded, client: Client, researcher, counting_cache: str
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    first, cold = load(client)
    second, warm = load(client)
    assert reads_answers(cold) and not reads_answers(warm)
    # The header's logout form and the footer's language switcher carry a fresh CSRF token.
    fresh_token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    main = first.index("<main")
    assert fresh_token.sub("", second[main:]) == fresh_token.sub("", first[main:])
    _, other_query = load(client, exclude_repeat_attempts="true")
    assert reads_answers(other_query)  # another query is another entry


@pytest.mark.parametrize("change", ["delete", "withdraw", "add"])
def test_any_change_to_the_answers_shows_at_once(
    seeded: Seeded, client: Client, researcher, change: str
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    load(client)
    answer = Answer.objects.filter(assignment__participant__withdrawn_at__isnull=True).first()
    participant = answer.assignment.participant
    given = len(seeded.answers)
    if change == "delete":
        answer.delete()
        expected = given - 1
    elif change == "withdraw":
        expected = given - withdraw(participant)
    else:
        assignment = answer.assignment
        answer.delete()
        answer.pk = None
        answer.assignment = assignment
        answer.save()  # the same count, a higher id
        expected = given
    html, sql = load(client)
    assert reads_answers(sql)
    assert f'id="headline-answers">{expected}<' in html


def test_the_fingerprint_follows_withdrawals_and_batch_names(seeded: Seeded) -> None:
    before = report.fingerprint()
    assert report.fingerprint() == before
    seeded.batch.name = "renamed"
    seeded.batch.save()
    renamed = report.fingerprint()
    assert renamed != before
    Participant.objects.filter(withdrawn_at__isnull=True).first().delete()  # cascades answers
    assert report.fingerprint() != renamed


def test_a_cache_that_fails_costs_only_speed(
    seeded: Seeded, client: Client, researcher, settings: Any
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    html, sql = load(client)
    assert reads_answers(sql) and f'id="headline-answers">{len(seeded.answers)}<' in html
