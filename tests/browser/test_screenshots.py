"""Screenshots of every page at desktop and phone width, from the committed demo.

Written to a temporary folder, or to SCREENSHOTS_DIR when set; the README's are made with
    SCREENSHOTS_DIR=docs/screenshots pytest tests/browser/test_screenshots.py
The clips are played at 16x speed (only here) so that the run takes seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEMO, DESKTOP, PHONE
from tests.browser.quiz_steps import answer_current, consent_and_background

pytestmark = pytest.mark.browser

FAST_PLAYBACK = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { this.playbackRate = 16; return play.call(this); };
"""


def shoot(page: Page, folder: Path, name: str, size: str) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=folder / f"{name}-{size}.png", full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("size, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_it_screenshots_every_page(
    browser: Browser,
    live_server: object,
    transactional_db: None,
    media_root: Path,
    tmp_path: Path,
    size: str,
    viewport: dict,
) -> None:
    call_command("seed_demo", "--fixtures", str(DEMO), verbosity=0)
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    context.add_init_script(FAST_PLAYBACK)
    page = context.new_page()
    page.set_default_timeout(20_000)

    page.goto("/")
    shoot(page, folder, "1-landing", size)
    page.get_by_label("I agree to take part").check()
    page.get_by_role("button", name="Start").click()
    page.get_by_label("26–45").check()
    page.get_by_label("Advanced").check()
    shoot(page, folder, "2-background", size)
    page.goto("/")
    page.evaluate("window.sessionStorage.clear()")
    consent_and_background(page)
    page.locator("#play-A").click()
    expect(page.locator("#clip-state-A")).to_have_text("Heard to the end")
    shoot(page, folder, "3-question", size)
    page.locator("#play-B").click()
    expect(page.locator("#answer-A")).to_be_enabled()
    page.locator("#answer-A").click()
    expect(page.locator("#reveal-title")).to_be_visible()
    # A function, not a bare expression: Playwright evals a bare expression inside the page,
    # which the site's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.scores img')].every("
        "i => i.complete && i.naturalWidth)"
    )
    shoot(page, folder, "4-reveal", size)
    for number in range(2, 6):
        page.locator("#next").click()
        answer_current(page, number, "B")
    page.locator("#next").click()
    expect(page.locator("#results-text")).to_be_visible()
    shoot(page, folder, "5-results", size)
    page.get_by_role("button", name="Withdraw and delete my answers").click()
    page.get_by_role("button", name="Yes, delete my answers").click()
    expect(page.get_by_role("heading", name="Your answers have been deleted")).to_be_visible()
    shoot(page, folder, "6-withdrawn", size)
    context.close()
    pages = ("1-landing", "2-background", "3-question", "4-reveal", "5-results", "6-withdrawn")
    assert all((folder / f"{name}-{size}.png").stat().st_size > 0 for name in pages)
