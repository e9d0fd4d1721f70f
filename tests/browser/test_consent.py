"""Consent in a real browser, on a desktop and a phone: the study on the consent step, the About
page linked from every page, a minor stopped or asked for a guardian's agreement, and
withdrawing by code from a second browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from bachsurvey.consent.study import DEFAULT_STUDY, current_study, new_version
from bachsurvey.models import MinorsPolicy, Participant, Study
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.quiz_steps import (
    answer_current,
    consent_and_background,
    sound_check_and_skip_practice,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(params=list(VIEWPORTS))
def sized(request: pytest.FixtureRequest, page: Page) -> Page:
    page.set_viewport_size(VIEWPORTS[request.param])
    return page


def described(**fields: object) -> Study:
    current_study()
    return new_version(
        Study(
            **{
                **DEFAULT_STUDY,
                "institution": "University of Somewhere",
                "ethics_approval": "REC 2026/042",
                **fields,
            }
        )
    )


def choose_age(page: Page, label: str) -> None:
    page.goto("/")
    page.get_by_label("I agree to take part").check()
    page.get_by_role("button", name="Start").click()
    page.get_by_label(label, exact=True).check()
    page.get_by_label("Intermediate").check()


def test_the_consent_step_shows_the_study_and_links_to_about(sized: Page) -> None:
    study = described()
    sized.goto("/")
    for text in ("University of Somewhere", "REC 2026/042", f"version {study.version}"):
        expect(sized.locator("#view-landing")).to_contain_text(text)
    sized.get_by_text("Privacy notice").click()
    expect(sized.locator("#privacy-notice")).to_contain_text("no IP address")
    # The study fits the phone: nothing wider than the screen.
    assert sized.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    sized.get_by_role("link", name="About this study").click()
    expect(sized.get_by_role("heading", name="About this study")).to_be_visible()
    expect(sized.locator("#study-institution")).to_have_text("University of Somewhere")
    expect(sized.locator("#withdrawing")).to_be_visible()
    sized.goto("/accounts/login/")
    expect(sized.get_by_role("link", name="About this study")).to_be_visible()


def test_a_minor_is_stopped_kindly(sized: Page) -> None:
    described(minors=MinorsPolicy.STOP)
    choose_age(sized, "under 18")
    expect(sized.locator("#guardian")).to_be_hidden()
    sized.get_by_role("button", name="Begin the questions").click()
    expect(sized.get_by_role("heading", name="Thank you for your interest")).to_be_visible()
    expect(sized.locator("#view-too-young")).to_contain_text("Nothing about you has been stored")
    assert not Participant.objects.exists()


def test_a_minor_takes_part_with_a_guardian_s_agreement(sized: Page) -> None:
    described(minors=MinorsPolicy.GUARDIAN)
    choose_age(sized, "18–25")
    expect(sized.locator("#guardian")).to_be_hidden()
    sized.get_by_label("under 18", exact=True).check()
    guardian = sized.get_by_label("a parent or guardian has read about the study")
    expect(guardian).to_be_visible()
    sized.get_by_role("button", name="Begin the questions").click()
    expect(sized.locator("#status")).to_contain_text("parent or guardian must agree")
    expect(guardian).to_be_focused()
    assert not Participant.objects.exists()
    guardian.check()
    sized.get_by_role("button", name="Begin the questions").click()
    sound_check_and_skip_practice(sized)
    expect(sized.locator("#question-title")).to_have_text("Question 1 of 5")
    participant = Participant.objects.get()
    assert (participant.age_group, participant.guardian_confirmed) == ("under-18", True)
    assert participant.study_id == current_study().pk


@pytest.mark.slow
def test_withdrawing_by_code_from_a_phone(
    page: Page, browser: Browser, live_server: object
) -> None:
    consent_and_background(page)
    for number in range(1, 6):
        answer_current(page, number, "A")
        page.get_by_role(
            "button", name="See your results" if number == 5 else "Next question"
        ).click()
    expect(page.locator("#withdrawal-code-line")).to_be_visible()
    code = page.locator("#withdrawal-code").inner_text()
    assert len(code) == 9 and code[4] == "-"

    phone = browser.new_context(viewport=PHONE, base_url=live_server.url)  # type: ignore[attr-defined]
    other = phone.new_page()
    try:
        other.goto("/about/")
        other.get_by_role("link", name="withdrawal page").click()
        field = other.get_by_label("Your withdrawal code")
        field.fill("ABCD-2345")
        other.get_by_role("button", name="Withdraw and delete my answers").click()
        expect(other.locator("#code-error")).to_contain_text("This code is not right")
        assert not Participant.objects.get().withdrawn
        other.get_by_label("Your withdrawal code").fill(code.lower())
        other.get_by_role("button", name="Withdraw and delete my answers").click()
        expect(other.get_by_role("heading", name="Your answers have been deleted")).to_be_visible()
    finally:
        phone.close()
    participant = Participant.objects.get()
    assert participant.withdrawn and not participant.assignments.exists()
    page.reload()  # the first browser is told
    expect(page.locator("#view-withdrawn")).to_be_visible()
