"""Issue 20 in a real browser: the sound check and the practice pair, loading and failed clips,
a reload mid-question, the reveal (replay, the chorale, the network's voices), the recap, the
public results page and play again; at desktop and phone width."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bachsurvey.models import Answer, Assignment, Chorale, Participant
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.quiz_steps import (
    HEARD,
    answer_current,
    consent_and_background,
    listen_to_both,
    sound_check,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

VOICES = {
    "S": "soprano",
    "A": "alto",
    "T": "tenor",
    "B": "bass",
    "AT": "alto and tenor",
    "ATB": "alto, tenor and bass",
    "SATB": "all four voices",
}


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser: Browser, live_server: Any) -> Any:
    context = browser.new_context(viewport=request.param, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def begin(page: Page) -> None:
    page.goto("/")
    page.get_by_label("I agree to take part").check()
    page.get_by_role("button", name="Start").click()
    page.get_by_label("18–25").check()
    page.get_by_label("Novice").check()
    page.get_by_role("button", name="Begin the questions").click()


def test_the_sound_check_helps_and_the_practice_is_not_counted(page: Page) -> None:
    begin(page)
    expect(page.get_by_role("button", name="I can hear it")).to_be_disabled()
    page.get_by_role("button", name="I can't hear anything").click()
    expect(page.locator("#sound-help")).to_be_visible()
    expect(page.locator("#sound-help")).to_contain_text("volume")
    sound_check(page)
    expect(page.locator("#question-title")).to_have_text("Practice question")
    expect(page.locator("#practice-badge")).to_have_text("Practice: not counted")
    for label in ("A", "B"):  # the practice clips are real ones, a few seconds each
        page.locator(f"#play-{label}").click()
        expect(page.locator(f"#clip-state-{label}")).to_have_text(HEARD, timeout=20_000)
    page.locator("#answer-B").click()
    expect(page.locator("#reveal-title")).to_have_text(re.compile("^Practice: "))
    expect(page.locator("#reveal-text")).to_contain_text("not counted")
    expect(page.locator("#reveal-chorale")).to_contain_text("BWV 253, Ach bleib bei uns")
    expect(page.locator("#reveal-voices")).to_contain_text("alto, tenor and bass")
    # Practice writes nothing: no participant yet, no answer, ever.
    assert not Participant.objects.exists() and not Answer.objects.exists()
    page.get_by_role("button", name="Start the questions").click()
    expect(page.locator("#question-title")).to_have_text("Question 1 of 5")
    assert Participant.objects.count() == 1 and not Answer.objects.exists()
    # Hear the first pair out, so no clip request is still on its way when the test ends.
    listen_to_both(page)


def test_the_reveal_the_recap_the_public_page_and_play_again(page: Page) -> None:
    consent_and_background(page)
    first = Participant.objects.get()
    assignments = list(first.assignments.select_related("question").order_by("position"))
    for number, assignment in enumerate(assignments, start=1):
        answer_current(page, number, "A")
        real = Chorale.objects.get(clips=assignment.question.clip_real)
        expect(page.locator("#reveal-chorale")).to_contain_text(
            f"BWV {real.source.removeprefix('bwv')}"
        )
        if real.title:
            expect(page.locator("#reveal-chorale")).to_contain_text(real.title)
        expect(page.locator("#reveal-voices")).to_contain_text(VOICES[assignment.question.category])
        if number == 1:  # both clips play again after the answer
            for label in ("A", "B"):
                page.locator(f"#replay-{label}").click()
                expect(page.locator(f"#replay-{label}")).to_have_text(f"Pause {label}")
                expect(page.locator(f"#replay-{label}")).to_have_text(f"Play {label} again")
        page.locator("#next").click()

    expect(page.locator("#results-text")).to_contain_text("of 5 questions")
    recap = page.locator("#recap li")
    expect(recap).to_have_count(5)
    expect(recap.first).to_contain_text("BWV")
    play = recap.nth(4).locator("button").first
    play.click()
    expect(play).to_have_text("Pause A")
    expect(play).to_have_text(re.compile(r"^Play A \((Bach|the network)\)$"))

    expect(page.locator("#share-link")).to_have_attribute("href", "/results/")
    page.locator("#share-link").click()
    expect(page.locator("#public-table")).to_contain_text("95% interval")
    expect(page.locator("#public-overall")).to_contain_text("of 5 answers")
    page.go_back()

    page.get_by_role("button", name="Play again").click()
    expect(page.locator("#question-title")).to_have_text("Question 1 of 5")
    second = Participant.objects.exclude(pk=first.pk).get()
    assert (second.attempt, first.attempt) == (2, 1)
    assert Answer.objects.filter(assignment__participant=first).count() == 5
    heard = {a.question_id for a in assignments}
    assert heard.isdisjoint(a.question_id for a in second.assignments.all())
    answer_current(page, 1, "B")
    assert Answer.objects.filter(assignment__participant=second).count() == 1


def test_a_clip_shows_loading_until_it_can_play(page: Page) -> None:
    held: list[Route] = []
    holding = [True]

    def hold(route: Route) -> None:  # clip requests wait until the test lets them go
        if holding[0]:
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/m/"), hold)
    consent_and_background(page)
    page.locator("#play-A").click()
    expect(page.locator("#clip-state-A")).to_have_text("Loading…")
    expect(page.locator("#play-A")).to_have_text("Pause A")
    page.wait_for_timeout(500)
    expect(page.locator("#clip-state-A")).to_have_text("Loading…")  # still: no sound yet
    holding[0] = False
    for route in held:
        route.continue_()
    expect(page.locator("#clip-state-A")).to_have_text(HEARD)


def test_a_failed_clip_offers_a_retry_in_plain_words(page: Page) -> None:
    page.route(re.compile(r"/m/"), lambda route: route.abort())
    consent_and_background(page)
    page.locator("#play-A").click()
    expect(page.locator("#clip-state-A")).to_have_text("This clip did not load.")
    expect(page.locator("#retry-A")).to_be_visible()
    expect(page.locator("#status")).to_have_text(
        "Clip A could not be loaded. Check your connection, then try it again."
    )
    expect(page.locator("#answer-A")).to_be_disabled()
    page.unroute(re.compile(r"/m/"))
    page.locator("#retry-A").click()
    expect(page.locator("#clip-state-A")).to_have_text(HEARD)
    expect(page.locator("#retry-A")).to_be_hidden()


def test_a_reload_mid_question_remembers_what_was_heard(page: Page) -> None:
    consent_and_background(page)
    page.locator("#play-A").click()
    expect(page.locator("#clip-state-A")).to_have_text(HEARD)
    page.reload()
    expect(page.locator("#question-title")).to_have_text("Question 1 of 5")
    expect(page.locator("#clip-state-A")).to_have_text(HEARD)
    expect(page.locator("#clip-state-B")).to_have_text("Not heard yet")
    expect(page.locator("#answer-A")).to_be_disabled()  # the gate survives the reload
    page.locator("#play-B").click()
    expect(page.locator("#clip-state-B")).to_have_text(HEARD)
    page.locator("#answer-B").click()
    expect(page.locator("#reveal-title")).to_be_visible()
    answer = Answer.objects.get()
    assert answer.plays == {"A": 1, "B": 1} and answer.heard_fully == {"A": True, "B": True}
    assert Assignment.objects.filter(answer__isnull=False).count() == 1
