"""A researcher logs in and reads the dashboard: headline, tables, plots, exclusion toggles.

Screenshots go to a temporary folder, or to SCREENSHOTS_DIR when set; the README's are made with
    SCREENSHOTS_DIR=docs/screenshots pytest tests/browser/test_dashboard.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bachsurvey.research.data import expected_cell, kept, make_user, seed_answers
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 81"


@pytest.fixture
def seeded(transactional_db: None):  # type: ignore[no-untyped-def]
    make_user("rita", researcher=True, password=PASSWORD)
    make_user("nora", researcher=False, password=PASSWORD)
    return seed_answers(participants=150, days=9)


def log_in(page: Page, username: str = "rita") -> None:
    page.goto("/research/")
    expect(page).to_have_url("/accounts/login/?next=/research/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The dashboard fits the mixed model and draws four plots before it answers: on a busy
    # machine that can outlast expect()'s 5 s, so wait for the page itself to load.
    page.wait_for_url("**/research/", timeout=60_000)


def test_a_researcher_reads_the_dashboard(page: Page, seeded) -> None:  # type: ignore[no-untyped-def]
    log_in(page)
    expect(page.get_by_role("heading", name="Results of the listening test")).to_be_visible()
    overall = expected_cell(seeded.answers)
    expect(page.locator("#headline-accuracy")).to_contain_text(f"{100 * overall['accuracy']:.1f}%")
    expect(page.locator("#headline-answers")).to_have_text(str(len(seeded.answers)))
    expect(page.locator("#model")).to_contain_text("a typical listener")
    expect(page.locator("#position")).to_contain_text("with Bach as clip A")

    plots = page.locator("figure.plot svg[role=img]")
    expect(plots).to_have_count(4)
    for index in range(4):
        box = plots.nth(index).bounding_box()
        assert box and box["width"] > 250 and box["height"] > 120
    for name in ("Accuracy by category", "Accuracy by music experience", "Answers over time"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    expect(page.locator("#bachbot")).to_contain_text("0.76")
    expect(page.locator("#cells tbody tr")).to_have_count(5)

    page.get_by_label("Either clip was not played to its end").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/research/?exclude_not_heard_fully=true", timeout=60_000)
    remaining = kept(seeded.answers, not_heard_fully=True)
    expect(page.locator("#kept")).to_have_text(
        f"Showing {len(remaining)} of {len(seeded.answers)} answers."
    )
    with page.expect_download() as download:
        page.get_by_role("link", name="All answers, CSV").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("answer_id,") and len(lines) == len(seeded.answers) + 1


def test_a_non_researcher_is_turned_away(page: Page, seeded) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "nora")
    expect(page.get_by_role("heading", name="Researchers only")).to_be_visible()


@pytest.mark.parametrize("size, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_it_screenshots_the_dashboard(
    browser: Browser,
    live_server,
    seeded,
    tmp_path: Path,
    size: str,
    viewport: dict,  # type: ignore[no-untyped-def]
) -> None:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page)
    expect(page.locator("figure.plot svg")).to_have_count(4)
    # Nothing wider than the screen: wide tables scroll inside their own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=folder / f"7-dashboard-{size}.png", full_page=True)
    context.close()
