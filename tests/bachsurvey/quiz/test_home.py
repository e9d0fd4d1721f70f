"""The quiz page and the API schema are served."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import Client


@pytest.mark.django_db
def test_it_shows_the_landing_page_with_consent(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="consent"' in page and "about <strong>5 minutes</strong>" in page
    for code in ("under-18", "18-25", "26-45", "46-60", "over-60"):
        assert f'value="{code}"' in page
    for code in ("novice", "intermediate", "advanced", "expert"):
        assert f'value="{code}"' in page
    assert 'name="csrf-token"' in page


def page_state(client: Client) -> dict:
    page = client.get("/").content.decode()
    found = re.search(r'<script id="quiz-state" type="application/json">(.*?)</script>', page)
    assert found, page
    return json.loads(found.group(1))


@pytest.mark.django_db
def test_it_tells_the_page_which_participant_to_resume(client: Client, quiz: list) -> None:
    assert page_state(client)["participant"] is None
    created = client.post(
        "/api/participants/",
        {"consent": True, "age_group": "18-25", "experience": "novice"},
        content_type="application/json",
    ).json()
    assert page_state(client)["participant"] == created["id"]


def test_it_serves_the_openapi_schema(client: Client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Bach or Bot API"
    assert {
        "/api/participants/",
        "/api/participants/{participant_id}/",
        "/api/participants/{participant_id}/answers/",
        "/api/participants/{participant_id}/withdraw/",
    } <= set(schema["paths"])
    answer = schema["components"]["schemas"]["AnswerInput"]
    assert set(answer["required"]) == {"question", "choice", "response_ms", "plays", "heard_fully"}


def test_it_generates_the_schema_without_warnings(tmp_path: Path) -> None:
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
