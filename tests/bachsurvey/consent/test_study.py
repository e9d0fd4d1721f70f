"""The study, described once: a fresh install's version 1, versions added by editing (never
changed), shown on the consent step and the About page, and recorded with each participant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from bachsurvey.consent.study import DEFAULT_STUDY, current_study, new_version
from bachsurvey.models import MinorsPolicy, Participant, Study
from bachsurvey.research import exports

pytestmark = pytest.mark.django_db


def edit_form(study: Study, **changes: object) -> dict[str, object]:
    """The admin's change form for ``study`` as a browser posts it, with ``changes``."""
    fields = ["title", "institution", "researchers", "contact", "ethics_approval", "retention"]
    names = [*fields, "privacy_notice", "minimum_age", "minors"]
    return {**{name: getattr(study, name) for name in names}, **changes}


def test_it_creates_version_1_on_first_use_and_only_once() -> None:
    assert not Study.objects.exists()
    first = current_study()
    assert first.version == 1 and first.title == DEFAULT_STUDY["title"]
    assert current_study().pk == first.pk
    assert Study.objects.count() == 1


def test_a_new_version_keeps_the_old_one_as_it_was() -> None:
    first = current_study()
    edited = Study.objects.get(pk=first.pk)
    edited.institution = "University of Somewhere"
    second = new_version(edited)
    assert (second.version, second.pk != first.pk) == (2, True)
    assert Study.objects.get(version=1).institution == DEFAULT_STUDY["institution"]
    assert current_study().institution == "University of Somewhere"


def test_editing_in_the_admin_adds_a_version(admin_client: Client) -> None:
    first = current_study()
    url = f"/admin/bachsurvey/study/{first.pk}/change/"
    response = admin_client.post(url, edit_form(first, ethics_approval="REC 2026/042"))
    assert response.status_code == 302, response.content
    assert list(Study.objects.values_list("version", "ethics_approval")) == [
        (2, "REC 2026/042"),
        (1, DEFAULT_STUDY["ethics_approval"]),
    ]
    # Saving without a change adds nothing.
    latest = current_study()
    unchanged = admin_client.post(f"/admin/bachsurvey/study/{latest.pk}/change/", edit_form(latest))
    assert unchanged.status_code == 302 and Study.objects.count() == 2


def test_an_earlier_version_is_read_only_and_none_is_deleted(admin_client: Client) -> None:
    first = current_study()
    new_version(Study.objects.get(pk=first.pk))
    url = f"/admin/bachsurvey/study/{first.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="title"' not in page.content  # shown, not a form
    assert admin_client.post(url, edit_form(first, title="rewritten")).status_code == 403
    assert Study.objects.get(pk=first.pk).title == DEFAULT_STUDY["title"]
    assert admin_client.post(f"/admin/bachsurvey/study/{first.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/bachsurvey/study/add/").status_code == 403


def test_the_admin_refuses_a_minimum_age_the_age_groups_cannot_check(admin_client: Client) -> None:
    first = current_study()
    url = f"/admin/bachsurvey/study/{first.pk}/change/"
    response = admin_client.post(url, edit_form(first, minimum_age=16))
    assert response.status_code == 200  # the form again, with the error
    assert "must be where an age group starts (18, 26, 46, 61)" in response.content.decode()
    assert Study.objects.count() == 1
    with pytest.raises(ValidationError, match="age group, not their age"):
        Study(**{**DEFAULT_STUDY, "version": 9, "minimum_age": 17}).full_clean()


def test_the_consent_step_and_the_about_page_show_the_study(client: Client) -> None:
    study = new_version(
        Study(
            **{
                **DEFAULT_STUDY,
                "institution": "University of Somewhere",
                "contact": "bach-study@example.org",
                "ethics_approval": "REC 2026/042",
                "retention": "Five years after publication.",
                "privacy_notice": "We keep <no> names.",
            }
        )
    )
    for url in ("/", "/about/"):
        page = client.get(url).content.decode()
        for text in ("University of Somewhere", "REC 2026/042", "Five years after publication."):
            assert text in page, (url, text)
        assert 'href="mailto:bach-study@example.org"' in page
        assert "We keep &lt;no&gt; names." in page  # admin text is escaped, never markup
        assert f"version {study.version}" in page
    assert "/withdraw/" in client.get("/about/").content.decode()


@pytest.mark.parametrize(
    "url", ["/", "/about/", "/withdraw/", "/accounts/login/", "/research/", "/harmonize/"]
)
def test_every_page_links_to_the_about_page_and_the_harmonizer(client: Client, url: str) -> None:
    response = client.get(url, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="/about/"' in page and 'href="/harmonize/"' in page


def test_a_participant_records_the_version_it_agreed_to(quiz: list, quiz_client: Any) -> None:
    started = quiz_client.started(consent_version=current_study().version)
    new_version(Study(**{**DEFAULT_STUDY, "title": "A later description"}))
    later = quiz_client.started()  # the page sent no version: the current one
    versions = {str(k): v for k, v in Participant.objects.values_list("id", "study__version")}
    assert versions[started["id"]] == 1 and versions[later["id"]] == 2


def test_the_export_has_each_answer_s_consent_version(
    quiz: list, quiz_client: Any, new_quiz_client: Any
) -> None:
    adult = quiz_client.started()
    quiz_client.answer(adult["id"], adult["questions"][0]["id"])
    new_version(Study(**{**DEFAULT_STUDY, "minors": MinorsPolicy.GUARDIAN}))
    browser = new_quiz_client()
    minor = browser.started(age_group="under-18", guardian_consent=True)
    browser.answer(minor["id"], minor["questions"][0]["id"])
    answers = json.loads("".join(exports.export_chunks("json")))
    assert "consent_version" in exports.COLUMNS and "guardian_confirmed" in exports.COLUMNS
    assert {
        (r["participant_id"], r["consent_version"], r["guardian_confirmed"]) for r in answers
    } == {
        (adult["id"], 1, False),
        (minor["id"], 2, True),
    }
