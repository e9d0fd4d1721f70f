"""A researcher logs in and reads the dashboard: headline, tables, plots, exclusion toggles.

Screenshots go to a temporary folder, or to SCREENSHOTS_DIR when set; the README's are made with
    SCREENSHOTS_DIR=docs/screenshots pytest tests/browser/test_dashboard.py
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bachsurvey.research.data import START, expected_cell, kept, make_user, seed_answers
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

    plots = page.locator("figure.plot svg[role=img]:visible")  # the wide drawings, here
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
    page.wait_for_url("**/research/?*exclude_not_heard_fully=true", timeout=60_000)
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
    expect(page.locator("figure.plot svg:visible")).to_have_count(4)
    # Every plot's text at least 9 CSS pixels high on the screen, phone or desktop.
    assert smallest_plot_text(page) >= 9
    # Nothing wider than the screen: wide tables scroll inside their own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=folder / f"7-dashboard-{size}.png", full_page=True)
    context.close()


SMALLEST_TEXT = """() => {
  let smallest = Infinity;
  for (const svg of document.querySelectorAll("figure.plot svg")) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;  // the drawing this screen does not show
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll("text")) {
      const size = parseFloat(text.getAttribute("font-size") || getComputedStyle(text).fontSize);
      smallest = Math.min(smallest, size * scale);
    }
  }
  return smallest;
}"""


def smallest_plot_text(page: Page) -> float:
    """The smallest font size, in CSS pixels as drawn, of any text in the plots shown."""
    return page.evaluate(SMALLEST_TEXT)


def test_funnel_breakdowns_dates_and_downloads(page: Page, seeded) -> None:  # type: ignore[no-untyped-def]
    log_in(page)
    expect(page.locator("#funnel-started")).to_contain_text("started")
    expect(page.locator("#funnel tbody tr")).to_have_count(7)  # stayed, questions 1-5, finished
    for factor in ("batch", "checkpoint", "temperature"):
        expect(page.locator(f"#breakdown-{factor}")).to_be_visible()
    expect(page.locator("#breakdown-checkpoint tbody tr")).to_have_count(3)

    day = seeded.answers[0]["day"]
    until = (START + timedelta(days=day)).date().isoformat()
    page.get_by_label("To", exact=True).fill(until)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/research/?date_from=&date_to={until}", timeout=60_000)
    inside = [a for a in seeded.answers if a["day"] <= day]
    expect(page.locator("#headline-answers")).to_have_text(str(len(inside)))

    for fmt, magic in (("PNG", b"\x89PNG"), ("SVG", b"<?xml")):
        with page.expect_download() as download:
            page.locator("#plot-category").get_by_role("link", name=f"{fmt} of accuracy").click()
        assert download.value.suggested_filename == f"bach-or-bot-category-{until}.{fmt.lower()}"
        assert Path(download.value.path()).read_bytes().startswith(magic)
