"""The quiz API's replies are its payload dicts as they are (bachsurvey.quiz.api): each must be
exactly what the output serializer that the schema names would make of it, field for field and in
order."""

from typing import Any

import pytest

from bachsurvey.quiz.serializers import (
    AnswerCreatedOutput,
    ParticipantCreatedOutput,
    ProgressOutput,
)

pytestmark = pytest.mark.django_db


def assert_as_serialized(reply: Any, serializer: type) -> None:
    body = reply.json()
    expected = serializer(body).data
    assert body == expected
    assert list(body) == list(expected)  # the same fields in the same order


def test_a_start_is_what_its_serializer_gives(quiz: list, quiz_client: Any) -> None:
    reply = quiz_client.start()
    assert reply.status_code == 201
    assert_as_serialized(reply, ParticipantCreatedOutput)
    assert set(reply.json()["questions"][0]) == {"id", "position", "category", "clips"}


def test_answers_and_progress_are_what_their_serializers_give(quiz: list, quiz_client: Any) -> None:
    started = quiz_client.started()
    me = started["id"]
    in_progress = quiz_client.progress(me)
    assert_as_serialized(in_progress, ProgressOutput)
    assert in_progress.json()["results"] is None
    for question in started["questions"]:
        reply = quiz_client.answer(me, question["id"])
        assert reply.status_code == 201
        assert_as_serialized(reply, AnswerCreatedOutput)
    finished = quiz_client.progress(me)
    assert finished.json()["status"] == "finished"
    assert_as_serialized(finished, ProgressOutput)
    results = finished.json()["results"]
    assert results["answered"] == 5 and len(results["categories"]) == 7


def test_a_withdrawn_participants_progress_is_what_its_serializer_gives(
    quiz: list, quiz_client: Any
) -> None:
    me = quiz_client.started()["id"]
    assert quiz_client.withdraw(me).status_code == 200
    reply = quiz_client.progress(me)
    assert reply.json()["status"] == "withdrawn" and reply.json()["questions"] == []
    assert_as_serialized(reply, ProgressOutput)
