"""Withdrawing deletes the participant's answers and background, and says so."""

from typing import Any

import pytest

from bachsurvey.models import Answer, Assignment, Participant

pytestmark = pytest.mark.django_db


def test_it_deletes_answers_and_background(
    quiz: list, quiz_client: Any, new_quiz_client: Any
) -> None:
    other = new_quiz_client()
    kept = other.started()
    other.answer(kept["id"], kept["questions"][0]["id"])
    data = quiz_client.started()
    for question in data["questions"][:3]:
        quiz_client.answer(data["id"], question["id"])

    response = quiz_client.withdraw(data["id"])
    assert response.status_code == 200
    assert response.json() == {"status": "withdrawn", "deleted_answers": 3}
    participant = Participant.objects.get(pk=data["id"])
    assert participant.withdrawn
    assert (participant.age_group, participant.experience) == ("", "")
    assert not Assignment.objects.filter(participant=participant).exists()
    assert Answer.objects.count() == 1  # the other participant's answer stays

    progress = quiz_client.progress(data["id"]).json()
    assert progress["status"] == "withdrawn"
    assert (progress["questions"], progress["results"]) == ([], None)
    assert quiz_client.withdraw(data["id"]).json()["deleted_answers"] == 0


def test_a_withdrawn_participant_can_start_again(quiz: list, quiz_client: Any) -> None:
    first = quiz_client.started()
    quiz_client.withdraw(first["id"])
    second = quiz_client.started()
    assert Participant.objects.get(pk=second["id"]).attempt == 2
