"""The quiz in German, in a browser that asks for German (Accept-Language from its locale), on a
desktop and a phone; and the language switcher, whose choice sticks (issue 20, item 6)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bachsurvey.models import Answer, Participant
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_csp import watch

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

HEARD = "Bis zum Ende gehört"
# Words of the English page that must not show through on the German one.
ENGLISH = re.compile(r"\b(Play|Question|Clip|Your|Next|the network|answers?|Withdraw)\b")


@pytest.fixture(params=["desktop", "phone"])
def german(request: pytest.FixtureRequest, browser: Browser, live_server: object) -> Iterator[Page]:
    viewport = {"desktop": DESKTOP, "phone": PHONE}[request.param]
    context = browser.new_context(
        viewport=viewport,
        locale="de-DE",  # chromium sends Accept-Language: de-DE
        base_url=live_server.url,  # type: ignore[attr-defined]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


# The study's own texts (title, retention, privacy notice) are the researchers' words, shown as
# written (English in the default study); everything else on the page is the site's.
SITE_TEXT = """view => {
  const copy = view.cloneNode(true);
  copy.querySelectorAll("#study, #privacy-notice, [hidden]").forEach(el => el.remove());
  return copy.textContent;
}"""


def no_english(page: Page, view: str) -> None:
    text = page.locator(f"#view-{view}").evaluate(SITE_TEXT)
    assert not ENGLISH.search(text), (ENGLISH.search(text), text)


def listen(page: Page) -> None:
    for label in ("A", "B"):
        page.locator(f"#play-{label}").click()
        # The practice clips are real ones, a few seconds each.
        expect(page.locator(f"#clip-state-{label}")).to_have_text(HEARD, timeout=20_000)


@pytest.mark.slow
def test_the_whole_quiz_in_german(german: Page) -> None:
    page = german
    violations = watch(page)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Können Sie Bach von einer Maschine")).to_be_visible()
    no_english(page, "landing")
    page.get_by_role("button", name="Starten").click()  # without consent: refused, in German
    expect(page.locator("#status")).to_have_text(
        "Bitte setzen Sie vor dem Start das Häkchen, um einzuwilligen."
    )
    page.get_by_label("Ich willige ein").check()
    page.get_by_role("button", name="Starten").click()
    expect(page.get_by_role("heading", name="Über Sie")).to_be_visible()
    page.get_by_label("26–45").check()
    page.get_by_label("Mittelstufe").check()
    page.get_by_role("button", name="Mit den Fragen beginnen").click()

    expect(page.get_by_role("heading", name="Ton prüfen")).to_be_visible()
    page.get_by_role("button", name="Testton abspielen").click()
    page.get_by_role("button", name="Ich höre ihn").click()

    expect(page.locator("#question-title")).to_have_text("Übungsfrage")
    expect(page.locator("#practice-badge")).to_have_text("Übung: zählt nicht")
    expect(page.locator("#question-hint")).to_contain_text("hat das Netz")
    listen(page)
    page.locator("#answer-A").click()
    expect(page.locator("#reveal-title")).to_have_text(re.compile("^Übung: "))
    expect(page.locator("#reveal-text")).to_contain_text("Das war eine Übung; sie zählt nicht.")
    expect(page.locator("#reveal-chorale")).to_contain_text("Bachs Ausschnitt stammt aus")
    no_english(page, "reveal")
    page.get_by_role("button", name="Mit den Fragen beginnen").click()

    for number in range(1, 6):
        expect(page.locator("#question-title")).to_have_text(f"Frage {number} von 5")
        expect(page.locator("#step")).to_have_text(f"Frage {number} von 5")
        expect(page.locator("#play-A")).to_have_text("A abspielen")
        no_english(page, "question")
        listen(page)
        expect(page.locator("#status")).to_have_text("Beide Ausschnitte gehört. Welcher ist Bach?")
        page.locator("#answer-B").click()
        expect(page.locator("#reveal-title")).to_have_text(
            re.compile("^(Richtig: Das war Bach.|Diesmal nicht.)$")
        )
        expect(page.locator("#reveal-text")).to_contain_text("Sie haben Ausschnitt B gewählt.")
        expect(page.locator("#score-A figcaption")).to_have_text(
            re.compile("^Ausschnitt A: (Bach|das Netz)$")
        )
        no_english(page, "reveal")
        page.get_by_role(
            "button", name="Ihre Ergebnisse ansehen" if number == 5 else "Nächste Frage"
        ).click()

    answers = Answer.objects.all()
    assert answers.count() == 5 and all(a.choice == "B" for a in answers)
    assert Participant.objects.get().experience == "intermediate"  # stored as ever
    correct = sum(a.correct for a in answers)
    expect(page.locator("#results-title")).to_have_text("Ihre Ergebnisse")
    expect(page.locator("#results-text")).to_have_text(
        f"Sie haben Bach in {correct} von 5 Fragen gefunden."
    )
    expect(page.locator("#results-table")).to_contain_text("Freie Komposition")
    expect(page.locator("#results-table")).to_contain_text("Antwort")
    expect(page.locator("#distribution")).to_contain_text("von 5: 1 Person (Sie)")
    expect(page.locator("#recap li")).to_have_count(5)
    expect(page.locator("#recap")).to_contain_text("Bach war Ausschnitt")
    no_english(page, "results")
    # The public results page, in German too.
    page.get_by_role("link", name="Bach or Bot: die Ergebnisse aller").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#public-overall")).to_contain_text("von 5 Antworten (1 Person)")
    assert page.evaluate("window.cspViolations") == []
    assert violations == []


def test_the_switcher_changes_the_language_and_it_sticks(german: Page) -> None:
    page = german
    page.goto("/about/")
    expect(page.get_by_role("heading", name="Über diese Studie")).to_be_visible()
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="English").click()
    # Back on the same page, now in English, though the browser still asks for German.
    expect(page).to_have_url(re.compile("/about/$"))
    expect(page.get_by_role("heading", name="About this study")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/")  # the quiz, its script's strings included
    expect(page.get_by_role("heading", name="Can you tell Bach from a machine?")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#status")).to_contain_text("Please tick the box")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("heading", name="Können Sie Bach von einer Maschine")).to_be_visible()
    page.goto("/harmonize/")
    expect(page.get_by_role("heading", name="Eigene Melodie harmonisieren")).to_be_visible()
    page.get_by_label("Spielen", exact=True).check()
    # The piano's keys are named by the catalog: B is H in German.
    expect(page.get_by_role("button", name="H4 (Taste J)")).to_be_visible()
    expect(page.get_by_role("button", name="Cis4 (Taste W)")).to_be_visible()
    expect(page.locator('#piano button[data-index="11"]')).to_have_text("H")
    page.get_by_role("button", name="H4 (Taste J)").click()
    expect(page.get_by_label("Melodie", exact=True)).to_have_value(re.compile(r"B4$"))
