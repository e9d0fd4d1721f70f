"""Steps a participant takes on the quiz page, shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

HEARD = "Heard to the end"


def consent_and_background(page: Page) -> None:
    page.goto("/")
    page.get_by_label("I agree to take part").check()
    page.get_by_role("button", name="Start").click()
    page.get_by_label("26–45").check()
    page.get_by_label("Intermediate").check()
    page.get_by_role("button", name="Begin the questions").click()
    sound_check_and_skip_practice(page)
    expect(page.locator("#question-title")).to_have_text("Question 1 of 5")


def sound_check(page: Page) -> None:
    """The audio check before the first question: play the chord, say it was heard."""
    expect(page.get_by_role("heading", name="Check your sound")).to_be_visible()
    page.get_by_role("button", name="Play the test sound").click()
    page.get_by_role("button", name="I can hear it").click()
    expect(page.locator("#practice-badge")).to_be_visible()


def sound_check_and_skip_practice(page: Page) -> None:
    sound_check(page)
    page.get_by_role("button", name="Skip the practice").click()


def listen_to_both(page: Page) -> None:
    for label in ("A", "B"):
        page.locator(f"#play-{label}").click()
        expect(page.locator(f"#clip-state-{label}")).to_have_text(HEARD)


def answer_current(page: Page, number: int, choice: str) -> None:
    expect(page.locator("#question-title")).to_have_text(f"Question {number} of 5")
    listen_to_both(page)
    page.locator(f"#answer-{choice}").click()
    expect(page.locator("#reveal-title")).to_be_visible()
