"""/api/docs/ in a real browser, desktop and phone: it renders, every request stays on the site,
and the CSP is not broken (no violation reported)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_api_reference_renders_from_the_site_alone(
    browser: Browser, live_server, transactional_db: None, viewport: dict
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="Bach or Bot API")).to_be_visible()
    expect(page.locator("#results_answers_csv")).to_contain_text("text/csv")
    page.get_by_role("link", name="GET /api/results/summary/").click()
    expect(page.locator("section.api-op:target")).to_contain_text("date_from")
    assert hosts == {urlsplit(live_server.url).netloc}
    assert not problems, problems
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()
