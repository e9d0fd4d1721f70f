"""Everyone's figures in a participant's results come from a cached snapshot (its aggregation
over every answer would otherwise grow with the survey), plus the participant's own newer answers,
so "everyone" never shows less than "you"."""

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from bachsurvey.models import Answer, Participant
from bachsurvey.quiz import scores

pytestmark = pytest.mark.django_db


def finish(browser: Any) -> dict:
    data = browser.started()
    for question in data["questions"]:
        assert browser.answer(data["id"], question["id"], choice="A").status_code == 201
    return data


def results(browser: Any, participant: str) -> dict:
    return browser.progress(participant).json()["results"]


def test_your_answers_count_even_when_the_snapshot_is_older(quiz: list, new_quiz_client) -> None:
    first = new_quiz_client()
    first_id = finish(first)["id"]
    assert results(first, first_id)["everyone_participants"] == 1  # the snapshot is taken here

    second = new_quiz_client()
    second_id = finish(second)["id"]
    mine = results(second, second_id)
    # The snapshot holds the first participant; the second's own answers are added to it.
    assert (mine["everyone_participants"], mine["everyone_answered"]) == (2, 10)
    assert sum(mine["score_distribution"]) == 2
    satb = next(row for row in mine["categories"] if row["category"] == "SATB")
    assert satb["everyone_answered"] == 4 and satb["your_answered"] == 2

    # A third participant's answers appear once the snapshot is renewed, not before.
    third = new_quiz_client()
    data = third.started()
    assert third.answer(data["id"], data["questions"][0]["id"]).status_code == 201
    assert results(second, second_id)["everyone_answered"] == 10
    cache.clear()
    assert results(second, second_id)["everyone_answered"] == 11


def test_a_cached_snapshot_spares_the_aggregation(quiz: list, new_quiz_client) -> None:
    browser = new_quiz_client()
    participant = finish(browser)["id"]
    with CaptureQueriesContext(connection) as cold:
        results(browser, participant)
    with CaptureQueriesContext(connection) as warm:
        results(browser, participant)
    assert len(warm.captured_queries) == len(cold.captured_queries) - 3


def age_the_snapshot(seconds: float) -> None:
    snapshot = cache.get(scores._EVERYONE_KEY)
    assert snapshot is not None
    older = dataclasses.replace(snapshot, until=snapshot.until - timedelta(seconds=seconds))
    cache.set(scores._EVERYONE_KEY, older, 3600)


def test_a_stale_snapshot_is_renewed_by_one_request_while_others_serve_it(
    quiz: list, new_quiz_client
) -> None:
    first = new_quiz_client()
    first_id = finish(first)["id"]
    # A minute ago, so that the first participant's answers stay older than the aged snapshot
    # below (a participant's own answers newer than the snapshot are added to it).
    Answer.objects.update(created_at=F("created_at") - timedelta(minutes=1))
    Participant.objects.update(finished_at=F("finished_at") - timedelta(minutes=1))
    assert results(first, first_id)["everyone_answered"] == 5  # the snapshot is taken here
    second = new_quiz_client()
    data = second.started()
    assert second.answer(data["id"], data["questions"][0]["id"]).status_code == 201
    age_the_snapshot(scores.EVERYONE_CACHE_SECONDS + 1)

    # Another process is renewing it (it holds the refresh key): this request serves the old one
    # without aggregating.
    assert cache.add(scores._EVERYONE_REFRESH_KEY, True, 60)
    with CaptureQueriesContext(connection) as queries:
        assert results(first, first_id)["everyone_answered"] == 5
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]

    # Nobody is: the first request to find it stale renews it, and takes the refresh key.
    cache.delete(scores._EVERYONE_REFRESH_KEY)
    assert results(first, first_id)["everyone_answered"] == 6
    assert cache.get(scores._EVERYONE_REFRESH_KEY) is True
