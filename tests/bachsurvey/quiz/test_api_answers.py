"""POST /api/participants/{id}/answers/: stored at once, never twice, refusals change nothing."""

import uuid
from typing import Any

import pytest

from bachsurvey.models import Answer, Assignment, Question

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(quiz: list, quiz_client: Any) -> dict:
    return quiz_client.started()


def bach_side(participant_id: str, question_id: str) -> str:
    return Assignment.objects.get(participant_id=participant_id, question_id=question_id).bach_side


def test_it_stores_an_answer_and_says_where_bach_was(started: dict, quiz_client: Any) -> None:
    question = started["questions"][0]["id"]
    bach = bach_side(started["id"], question)
    response = quiz_client.answer(started["id"], question, choice=bach)
    assert response.status_code == 201
    data = response.json()
    assert (data["correct"], data["bach"], data["choice"]) == (True, bach, bach)
    assert (data["answered"], data["finished"]) == (1, False)
    assert [s["label"] for s in data["scores"]] == ["A", "B"]
    answer = Answer.objects.get()
    assert (answer.choice, answer.correct, answer.response_ms) == (bach, True, 4200)
    assert answer.elapsed_ms is None  # optional: a client may not send it
    assert answer.plays == {"A": 1, "B": 2}
    assert answer.heard_fully == {"A": True, "B": True}


def test_it_stores_the_time_since_the_question_was_shown(started: dict, quiz_client: Any) -> None:
    question = started["questions"][0]["id"]
    assert quiz_client.answer(started["id"], question, elapsed_ms=15_000).status_code == 201
    assert Answer.objects.get().elapsed_ms == 15_000


def test_it_marks_a_wrong_answer(started: dict, quiz_client: Any) -> None:
    question = started["questions"][0]["id"]
    wrong = "B" if bach_side(started["id"], question) == "A" else "A"
    data = quiz_client.answer(started["id"], question, choice=wrong).json()
    assert data["correct"] is False and data["bach"] != wrong


def test_it_refuses_a_second_answer_and_keeps_the_first(started: dict, quiz_client: Any) -> None:
    question = started["questions"][0]["id"]
    assert quiz_client.answer(started["id"], question, choice="A").status_code == 201
    again = quiz_client.answer(started["id"], question, choice="B", response_ms=1)
    assert again.status_code == 409
    assert again.json()["code"] == "already_answered"
    answer = Answer.objects.get()
    assert (answer.choice, answer.response_ms) == ("A", 4200)


def test_it_refuses_a_question_not_assigned(started: dict, quiz_client: Any, quiz: list) -> None:
    assigned = {q["id"] for q in started["questions"]}
    other = next(q for q in quiz if str(q.pk) not in assigned)
    response = quiz_client.answer(started["id"], str(other.pk))
    assert response.status_code == 400
    assert response.json()["code"] == "not_assigned"
    assert Answer.objects.count() == 0


@pytest.mark.parametrize("forged", [str(uuid.uuid4()), "1", "'; DROP TABLE x; --", ""])
def test_it_refuses_a_forged_question_id(started: dict, quiz_client: Any, forged: str) -> None:
    assert quiz_client.answer(started["id"], forged).status_code == 400
    assert Answer.objects.count() == 0


@pytest.mark.parametrize("choice", ["C", "a", "", None, "AB", 0])
def test_it_refuses_a_choice_that_is_not_a_clip(
    started: dict, quiz_client: Any, choice: object
) -> None:
    response = quiz_client.answer(started["id"], started["questions"][0]["id"], choice=choice)
    assert response.status_code == 400
    assert "choice" in response.json()
    assert Answer.objects.count() == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"response_ms": -1},
        {"response_ms": "soon"},
        {"elapsed_ms": -5},
        {"plays": {"A": 1}},
        {"plays": {"A": -1, "B": 1}},
        {"heard_fully": {"A": True}},
        {"heard_fully": "yes"},
    ],
)
def test_it_refuses_malformed_listening_data(
    started: dict, quiz_client: Any, overrides: dict
) -> None:
    question = started["questions"][0]["id"]
    assert quiz_client.answer(started["id"], question, **overrides).status_code == 400
    assert Answer.objects.count() == 0


def test_it_keeps_the_questions_in_order(started: dict, quiz_client: Any) -> None:
    response = quiz_client.answer(started["id"], started["questions"][2]["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_order"
    assert Answer.objects.count() == 0


def test_it_records_clips_not_heard_fully(started: dict, quiz_client: Any) -> None:
    # The page never sends this, but a script might: store it, the analysis can exclude it.
    question = started["questions"][0]["id"]
    heard = {"A": True, "B": False}
    assert quiz_client.answer(started["id"], question, heard_fully=heard).status_code == 201
    assert Answer.objects.get().heard_fully == heard


def test_it_finishes_after_five_answers_with_results(started: dict, quiz_client: Any) -> None:
    for i, question in enumerate(started["questions"]):
        data = quiz_client.answer(started["id"], question["id"], choice="A").json()
        assert data["answered"] == i + 1
    assert data["finished"] is True
    progress = quiz_client.progress(started["id"]).json()
    assert progress["status"] == "finished" and progress["answered"] == 5
    results = progress["results"]
    assert results["answered"] == 5
    assert results["correct"] == Answer.objects.filter(correct=True).count()
    assert sum(results["score_distribution"]) == 1
    assert results["score_distribution"][results["correct"]] == 1
    rows = {row["category"]: row for row in results["categories"]}
    assert rows["SATB"]["your_answered"] == 2 and rows["SATB"]["everyone_answered"] == 2
    for question in progress["questions"]:
        assert question["answer"]["bach"] in ("A", "B")


def test_it_compares_with_everyone(quiz: list, quiz_client: Any, new_quiz_client: Any) -> None:
    for browser in (new_quiz_client(), quiz_client):
        data = browser.started()
        for question in data["questions"]:
            browser.answer(data["id"], question["id"], choice="A")
    results = quiz_client.progress(data["id"]).json()["results"]
    assert results["everyone_participants"] == 2 and results["everyone_answered"] == 10
    assert sum(results["score_distribution"]) == 2
    assert results["everyone_correct"] == Answer.objects.filter(correct=True).count()


def test_it_refuses_answers_after_withdrawal(started: dict, quiz_client: Any) -> None:
    quiz_client.withdraw(started["id"])
    response = quiz_client.answer(started["id"], started["questions"][0]["id"])
    assert response.status_code == 403
    assert Answer.objects.count() == 0


def test_it_only_serves_live_questions(make_question: Any, quiz: list, quiz_client: Any) -> None:
    draft = [make_question(c, live=False) for c in ["S", "AT", "ATB", "SATB", "SATB"]]
    for _ in range(5):
        data = quiz_client.started()
        served = {q["id"] for q in data["questions"]}
        assert not served & {str(q.pk) for q in draft}
    assert Question.objects.filter(live=False).count() == 5
