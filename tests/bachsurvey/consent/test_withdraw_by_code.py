"""Withdrawing from any device with the code shown on the results page: the same deletion and
tombstone as the quiz page's own withdrawal; a wrong code says only that it is wrong."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from bachsurvey.consent import codes
from bachsurvey.models import Answer, Assignment, Participant

pytestmark = pytest.mark.django_db

WRONG = "This code is not right"


def finished(quiz_client: Any) -> tuple[str, str]:
    """A participant who answered every question, and the code its results page shows."""
    data = quiz_client.started()
    for question in data["questions"]:
        assert quiz_client.answer(data["id"], question["id"]).status_code == 201
    progress = quiz_client.progress(data["id"]).json()
    assert progress["status"] == "finished"
    return data["id"], progress["withdrawal_code"]


def csrf_client() -> tuple[Client, str]:
    """Another device: a fresh browser that checks CSRF as a real one is checked."""
    device = Client(enforce_csrf_checks=True)
    page = device.get("/withdraw/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    return device, token.group(1)


def withdraw(code: str) -> Any:
    device, token = csrf_client()
    return device.post("/withdraw/", {"code": code, "csrfmiddlewaretoken": token})


def test_the_code_withdraws_from_another_device(
    quiz: list, quiz_client: Any, new_quiz_client: Any
) -> None:
    other = new_quiz_client()
    kept = other.started()
    other.answer(kept["id"], kept["questions"][0]["id"])
    participant_id, code = finished(quiz_client)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)

    response = withdraw(code)
    assert response.status_code == 200
    assert "Your answers have been deleted" in response.content.decode()
    participant = Participant.objects.get(pk=participant_id)  # the tombstone
    assert participant.withdrawn and (participant.age_group, participant.experience) == ("", "")
    assert not Assignment.objects.filter(participant=participant).exists()
    assert Answer.objects.count() == 1  # the other participant's answer stays

    # The browser that took the quiz is told, and shows no code any more.
    progress = quiz_client.progress(participant_id).json()
    assert (progress["status"], progress["withdrawal_code"]) == ("withdrawn", None)
    # Twice is harmless, as with the quiz page's own button.
    assert withdraw(code).status_code == 200


def test_the_code_is_typed_loosely_and_stored_only_as_a_keyed_hash(
    quiz: list, quiz_client: Any
) -> None:
    participant_id, code = finished(quiz_client)
    stored = Participant.objects.get(pk=participant_id).withdrawal_code_hash
    plain = code.replace("-", "")
    assert stored == codes.digest(plain) and plain not in stored and len(stored) == 64
    assert withdraw(f"  {plain[:4].lower()} {plain[4:].lower()} ").status_code == 200
    assert Participant.objects.get(pk=participant_id).withdrawn


def test_a_code_made_under_a_retired_key_still_works(
    quiz: list, quiz_client: Any, settings: Any
) -> None:
    participant_id, code = finished(quiz_client)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert withdraw(code).status_code == 200
    assert Participant.objects.get(pk=participant_id).withdrawn


@pytest.mark.parametrize("typed", ["ABCD-2345", "ZZZZ-ZZZZ"])
def test_a_wrong_code_says_so_and_nothing_more(quiz: list, quiz_client: Any, typed: str) -> None:
    participant_id, _ = finished(quiz_client)
    response = withdraw(typed)
    assert response.status_code == 400
    page = response.content.decode()
    assert WRONG in page and 'aria-invalid="true"' in page
    assert not Participant.objects.get(pk=participant_id).withdrawn


@pytest.mark.parametrize("typed", ["", "ABC", "ABCD-234O", "ABCD-23451"])
def test_a_malformed_code_says_what_a_code_looks_like(quiz: list, typed: str) -> None:
    response = withdraw(typed)
    assert response.status_code == 400
    page = response.content.decode()
    assert ("8 letters and digits" in page) or ("Please type your withdrawal code" in page)


def test_the_form_needs_its_csrf_token(quiz: list, quiz_client: Any) -> None:
    participant_id, code = finished(quiz_client)
    device, _ = csrf_client()
    assert device.post("/withdraw/", {"code": code}).status_code == 403
    assert not Participant.objects.get(pk=participant_id).withdrawn


def test_codes_tried_are_rate_limited_per_address(
    quiz: list, quiz_client: Any, settings: Any, counting_cache: str
) -> None:
    settings.RATE_LIMIT_WITHDRAWALS = 3
    participant_id, code = finished(quiz_client)
    for _ in range(3):
        assert withdraw("ABCD-2345").status_code == 400
    refused = withdraw(code)  # even the right code: the address has used its tries
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert "Too many withdrawal codes" in refused.content.decode()
    assert not Participant.objects.get(pk=participant_id).withdrawn


def test_the_about_page_explains_the_code(client: Client) -> None:
    page = client.get("/about/").content.decode()
    assert "withdrawal code" in page and 'href="/withdraw/"' in page
