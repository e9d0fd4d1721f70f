"""A participant takes the quiz in a real browser, with real audio played to its end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bachsurvey.models import Answer, Assignment, Participant
from bachsurvey.quiz import clip_urls
from tests.browser.conftest import CLIP_SECONDS
from tests.browser.quiz_steps import HEARD, answer_current, consent_and_background

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

CHOICES = ["A", "B", "B", "A", "A"]


def clip_requests(page: Page) -> list[str]:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/m/" in r.url else None)
    return requested


@pytest.mark.slow
def test_a_participant_takes_the_whole_quiz(page: Page) -> None:
    requested = clip_requests(page)
    page.goto("/")
    page.get_by_role("button", name="Start").click()  # without consent: refused, politely
    expect(page.locator("#status")).to_contain_text("tick the box")
    expect(page.get_by_role("heading", name="Can you tell Bach")).to_be_visible()
    consent_and_background(page)

    for number, choice in enumerate(CHOICES, start=1):
        participant = Participant.objects.get()
        assignments = list(participant.assignments.order_by("position"))
        # Nothing beyond this pair and the next may have been fetched so far, and no score
        # beyond this question's.
        allowed = {
            clip_urls.url(a.media_key, side, kind)
            for kind, upto in (("audio", number + 1), ("score", number))
            for a in assignments[:upto]
            for side in ("A", "B")
        }
        answer_current(page, number, choice)
        assert {re.sub(r"^https?://[^/]+", "", url) for url in requested} <= allowed
        bach = assignments[number - 1].bach_side
        expected = "Right: that was Bach." if choice == bach else "Not this time."
        expect(page.locator("#reveal-title")).to_have_text(expected)
        for label in ("A", "B"):
            image = page.locator(f"#score-{label} img")
            url = clip_urls.url(assignments[number - 1].media_key, label, "score")
            expect(image).to_have_attribute("src", url)
            page.wait_for_function(
                "el => el.complete && el.naturalWidth > 0", arg=image.element_handle()
            )
        page.get_by_role(
            "button", name="See your results" if number == 5 else "Next question"
        ).click()

    answers = Answer.objects.select_related("assignment").order_by("assignment__position")
    assert [a.choice for a in answers] == CHOICES
    # The server's own account agrees with the browser's: each clip was sent in full.
    assert all(a.served == {"A": 1.0, "B": 1.0} for a in answers), [a.served for a in answers]
    for answer in answers:
        assert answer.correct == (answer.choice == answer.assignment.bach_side)
        assert answer.plays == {"A": 1, "B": 1}
        assert answer.heard_fully == {"A": True, "B": True}
        assert 0 <= answer.response_ms < 30_000
        # Shown, then both one-second clips played, then answered.
        assert answer.elapsed_ms >= answer.response_ms + 2 * CLIP_SECONDS * 1000
    participant = Participant.objects.get()
    assert participant.finished_at is not None
    assert (participant.age_group, participant.experience) == ("26-45", "intermediate")
    correct = sum(a.correct for a in answers)
    expect(page.locator("#results-text")).to_have_text(
        f"You found Bach in {correct} of 5 questions."
    )
    expect(page.locator("#results-table tbody tr")).to_have_count(4)  # one voice, AT, ATB, SATB

    page.get_by_role("button", name="Withdraw and delete my answers").click()
    page.get_by_role("button", name="Yes, delete my answers").click()
    expect(page.get_by_role("heading", name="Your answers have been deleted")).to_be_visible()
    expect(page.locator("#withdrawn-text")).to_contain_text("Your 5 answers")
    assert Answer.objects.count() == 0 and Assignment.objects.count() == 0
    assert Participant.objects.get().withdrawn


@pytest.mark.slow
def test_a_reload_resumes_where_the_participant_was(page: Page) -> None:
    consent_and_background(page)
    for number in (1, 2):
        answer_current(page, number, "A")
        page.get_by_role("button", name="Next question").click()
    expect(page.locator("#question-title")).to_have_text("Question 3 of 5")
    page.reload()
    expect(page.locator("#question-title")).to_have_text("Question 3 of 5")
    expect(page.locator("#clip-state-A")).to_have_text("Not heard yet")
    assert Answer.objects.count() == 2
    answer_current(page, 3, "B")
    page.reload()  # after an answer, before "Next": on to the next question
    for number in (4, 5):
        answer_current(page, number, "B")
        page.get_by_role("button", name=re.compile("Next question|See your results")).click()
    expect(page.locator("#results-text")).to_contain_text("of 5 questions")
    page.reload()
    expect(page.locator("#results-text")).to_contain_text("of 5 questions")
    assert [a.choice for a in Answer.objects.order_by("assignment__position")] == list("AABBB")


def test_the_answer_buttons_stay_locked_until_both_clips_ended(page: Page) -> None:
    consent_and_background(page)
    buttons = [page.locator("#answer-A"), page.locator("#answer-B")]
    for button in buttons:
        expect(button).to_be_disabled()
    page.locator("#play-A").click()
    expect(page.locator("#clip-state-A")).to_have_text(HEARD)
    for button in buttons:
        expect(button).to_be_disabled()
    page.locator("#play-A").click()  # A again: still only one clip heard
    page.locator("#play-B").click()
    expect(page.locator("#clip-state-B")).to_have_text("Playing…")
    for button in buttons:
        expect(button).to_be_disabled()
    buttons[0].click(force=True)  # a click on a locked button does nothing
    expect(page.locator("#clip-state-B")).to_have_text(HEARD)
    for button in buttons:
        expect(button).to_be_enabled()
    expect(page.locator("#status")).to_have_text("Both clips heard. Which one is Bach?")
    assert Answer.objects.count() == 0
    buttons[1].click()
    expect(page.locator("#reveal-title")).to_be_visible()
    answer = Answer.objects.get()
    assert answer.choice == "B" and answer.plays == {"A": 2, "B": 1}


def test_the_quiz_works_by_keyboard_alone(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator("#privacy-notice summary")).to_be_focused()  # the study's, first
    page.keyboard.press("Tab")
    expect(page.locator("#consent")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="About you")).to_be_focused()
    page.get_by_label("18–25").focus()
    page.keyboard.press("Space")
    page.get_by_label("Novice").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Begin the questions").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your sound")).to_be_focused()
    page.get_by_role("button", name="Play the test sound").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="I can hear it")).to_be_enabled()
    page.get_by_role("button", name="I can hear it").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#question-title")).to_have_text("Practice question")
    expect(page.locator("#question-title")).to_be_focused()
    page.get_by_role("button", name="Skip the practice").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#question-title")).to_have_text("Question 1 of 5")
    expect(page.locator("#question-title")).to_be_focused()
    for label in ("A", "B"):
        page.locator(f"#play-{label}").focus()
        page.keyboard.press("Enter")
        expect(page.locator(f"#clip-state-{label}")).to_have_text(HEARD)
    page.locator("#answer-A").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#reveal-title")).to_be_focused()
    assert Answer.objects.count() == 1
