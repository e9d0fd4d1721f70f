"""The minimum age, enforced by the server: a minor is stopped with nothing stored, or takes
part only with a parent's or guardian's agreement, as the study version says."""

from __future__ import annotations

from typing import Any

import pytest

from bachsurvey.consent.study import DEFAULT_STUDY, current_study, new_version
from bachsurvey.models import MinorsPolicy, Participant, Study

pytestmark = pytest.mark.django_db


def study_with(**fields: object) -> Study:
    return new_version(Study(**{**DEFAULT_STUDY, **fields}))


def test_a_minor_is_stopped_and_nothing_is_stored(quiz: list, quiz_client: Any) -> None:
    response = quiz_client.start(age_group="under-18", guardian_consent=True)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "too_young"
    assert "aged 18 and over" in body["detail"] and "nothing has been stored" in body["detail"]
    assert not Participant.objects.exists()
    assert quiz_client.client.session.get("bachsurvey_participant") is None


def test_a_minor_needs_a_guardian_when_the_study_allows_minors(
    quiz: list, quiz_client: Any
) -> None:
    study_with(minors=MinorsPolicy.GUARDIAN)
    for without in ({}, {"guardian_consent": False}):
        refused = quiz_client.start(age_group="under-18", **without)
        assert refused.status_code == 400
        assert refused.json()["code"] == "guardian_required"
        assert "a parent or guardian must agree" in refused.json()["detail"]
    assert not Participant.objects.exists()
    started = quiz_client.started(age_group="under-18", guardian_consent=True)
    assert Participant.objects.get(pk=started["id"]).guardian_confirmed


def test_an_adult_is_never_marked_as_a_minor(quiz: list, quiz_client: Any) -> None:
    study_with(minors=MinorsPolicy.GUARDIAN)
    started = quiz_client.started(age_group="18-25", guardian_consent=True)
    assert not Participant.objects.get(pk=started["id"]).guardian_confirmed


def test_the_minimum_age_decides_which_groups_are_minors(quiz: list, quiz_client: Any) -> None:
    study_with(minimum_age=26)
    assert quiz_client.start(age_group="18-25").json()["code"] == "too_young"
    assert quiz_client.start(age_group="26-45").status_code == 201
    assert current_study().minor_groups() == ["under-18", "18-25"]


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", None])
def test_guardian_consent_is_the_json_value_true_or_false(
    quiz: list, quiz_client: Any, value: object
) -> None:
    study_with(minors=MinorsPolicy.GUARDIAN)
    response = quiz_client.start(age_group="under-18", guardian_consent=value)
    assert response.status_code == 400
    assert "guardian_consent" in response.json()
    assert not Participant.objects.exists()


def test_consent_to_an_outdated_version_is_refused(quiz: list, quiz_client: Any) -> None:
    shown = current_study().version
    study_with(retention="Two years.")
    response = quiz_client.start(consent_version=shown)
    assert response.status_code == 409
    assert response.json()["code"] == "study_changed"
    assert "reload the page" in response.json()["detail"]
    assert not Participant.objects.exists()
    assert quiz_client.start(consent_version=shown + 1).status_code == 201


def test_the_page_knows_the_version_and_the_minors(client: Any) -> None:
    current_study()
    study_with(minors=MinorsPolicy.GUARDIAN, minimum_age=18)
    page = client.get("/").content.decode()
    assert '"consent_version": 2' in page and '"minors": "guardian"' in page
    assert '"minor_groups": ["under-18"]' in page
    assert 'id="guardian-consent"' in page and "I am under 18" in page
