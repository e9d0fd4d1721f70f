"""POST /api/participants/ and GET /api/participants/{id}/: starting, refusals, session binding."""

from collections import Counter
from typing import Any

import pytest
from django.db import models
from django.test import Client

from bachsurvey.models import Assignment, Participant, Question

pytestmark = pytest.mark.django_db


def test_it_creates_a_participant_with_five_questions(quiz: list, quiz_client: Any) -> None:
    response = quiz_client.start()
    assert response.status_code == 201
    data = response.json()
    participant = Participant.objects.get(pk=data["id"])
    assert (participant.age_group, participant.experience) == ("26-45", "intermediate")
    assert participant.consented_at is not None and participant.attempt == 1
    assert [q["position"] for q in data["questions"]] == [0, 1, 2, 3, 4]
    categories = Counter(q["category"] for q in data["questions"])
    assert categories["AT"] == categories["ATB"] == 1 and categories["SATB"] == 2
    assert sum(categories[c] for c in "SATB") == 1
    assert Assignment.objects.filter(participant=participant).count() == 5


@pytest.mark.parametrize(
    "overrides",
    [
        {"consent": False},
        {"consent": "yes"},
        {"consent": 1},
        {"age_group": "18-24"},
        {"age_group": ""},
        {"experience": "professional"},
        {"experience": None},
    ],
)
def test_it_refuses_a_bad_start(quiz: list, quiz_client: Any, overrides: dict) -> None:
    response = quiz_client.start(**overrides)
    assert response.status_code == 400
    assert Participant.objects.count() == 0


@pytest.mark.parametrize("missing", ["consent", "age_group", "experience"])
def test_it_refuses_a_start_with_a_missing_field(quiz: list, client: Client, missing: str) -> None:
    body = {"consent": True, "age_group": "18-25", "experience": "novice"}
    del body[missing]
    response = client.post("/api/participants/", body, content_type="application/json")
    assert response.status_code == 400
    assert missing in response.json()


def test_it_refuses_form_encoded_bodies(quiz: list, client: Client) -> None:
    response = client.post(
        "/api/participants/", {"consent": "true", "age_group": "18-25", "experience": "novice"}
    )
    assert response.status_code == 415


def test_it_says_so_when_there_are_not_enough_questions(
    make_question: Any, quiz_client: Any
) -> None:
    for category in ["S", "AT", "ATB", "SATB"]:  # one SATB short
        make_question(category)
    response = quiz_client.start()
    assert response.status_code == 503
    assert response.json()["code"] == "not_enough_questions"
    assert Participant.objects.count() == 0


def test_it_binds_a_participant_to_its_browser(
    quiz: list, quiz_client: Any, new_quiz_client: Any
) -> None:
    data = quiz_client.started()
    assert quiz_client.progress(data["id"]).status_code == 200
    other = new_quiz_client()
    first = data["questions"][0]["id"]
    assert other.progress(data["id"]).status_code == 404
    assert other.answer(data["id"], first).status_code == 404
    assert other.withdraw(data["id"]).status_code == 404
    assert not Participant.objects.get(pk=data["id"]).withdrawn
    assert quiz_client.answer(data["id"], first).status_code == 201


def test_it_rebinds_the_browser_to_a_new_attempt(quiz: list, quiz_client: Any) -> None:
    first = quiz_client.started()
    second = quiz_client.started()
    assert Participant.objects.get(pk=second["id"]).attempt == 2
    assert quiz_client.progress(first["id"]).status_code == 404
    assert quiz_client.progress(second["id"]).status_code == 200


def test_it_checks_csrf_for_anonymous_writes(quiz: list) -> None:
    browser = Client(enforce_csrf_checks=True)
    body = {"consent": True, "age_group": "18-25", "experience": "novice"}
    refused = browser.post("/api/participants/", body, content_type="application/json")
    assert refused.status_code == 403
    page = browser.get("/").content.decode()
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = browser.post(
        "/api/participants/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_it_reports_progress(quiz: list, quiz_client: Any) -> None:
    data = quiz_client.started()
    progress = quiz_client.progress(data["id"]).json()
    assert progress["status"] == "in_progress"
    assert (progress["answered"], progress["total"], progress["results"]) == (0, 5, None)
    assert [q["id"] for q in progress["questions"]] == [q["id"] for q in data["questions"]]
    assert all(q["answer"] is None for q in progress["questions"])


def test_it_stores_no_network_data() -> None:
    for model in (Participant, Assignment, Question):
        for field in model._meta.get_fields():
            assert not isinstance(field, models.GenericIPAddressField), field
            words = set(field.name.split("_"))
            assert not words & {"ip", "address", "agent", "host", "session"}, field.name
