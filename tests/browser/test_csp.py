"""The quiz works under its Content-Security-Policy: a question taken in chromium, and not one
violation reported (issue 19, item 5)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from bachsurvey.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.quiz_steps import answer_current, consent_and_background

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

# Every violation the page sees, also those that the console would only summarise.
LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def watch(page: Page) -> list[str]:
    messages: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            messages.append(message.text)

    page.on("console", note)
    page.add_init_script(LISTEN)
    return messages


def test_a_question_is_taken_under_the_policy_with_no_violation(page: Page) -> None:
    console = watch(page)
    response = page.goto("/")
    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    consent_and_background(page)
    answer_current(page, 1, "A")
    for label in ("A", "B"):  # the scores, served by the site, are shown after the answer
        expect(page.locator(f"#score-{label} img")).to_have_js_property("complete", True)
        assert page.locator(f"#score-{label} img").evaluate("img => img.naturalWidth") > 0
    page.get_by_role("button", name="Next question").click()
    expect(page.locator("#question-title")).to_have_text("Question 2 of 5")
    assert page.evaluate("window.cspViolations") == []
    assert console == []


def test_the_admin_login_works_under_the_policy(page: Page) -> None:
    console = watch(page)
    page.goto("/admin/login/")
    expect(page.locator("#id_username")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert console == []


def test_the_lockout_admin_works_under_the_policy(page: Page, transactional_db: None) -> None:
    """Staff log in through the admin's page, see a lockout and reset it: the admin's own
    scripts (select all, actions) run under the policy without a violation."""
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model
    from django.test import Client

    get_user_model().objects.create_superuser("boss", password="a long pass phrase 81")
    for _ in range(10):  # rita's guesser, locked out at its address
        Client(REMOTE_ADDR="192.0.2.7").post(
            "/accounts/login/", {"username": "rita", "password": "wrong"}
        )
    console = watch(page)
    page.goto("/admin/login/?next=/admin/axes/accessattempt/")
    page.locator("#id_username").fill("boss")
    page.locator("#id_password").fill("a long pass phrase 81")
    page.get_by_role("button", name="Log in").click()
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("192.0.2.7")
    expect(row).to_contain_text("(this address)")
    page.locator("#action-toggle").check()  # the admin's actions.js selects every row
    page.locator("select[name=action]").select_option("reset_pairs")
    page.locator("button[name=index]").click()  # "Go"
    expect(page.locator(".messagelist")).to_contain_text("Reset 1 lockout")
    assert not AccessAttempt.objects.exists()
    assert page.evaluate("window.cspViolations") == []
    assert console == []


@pytest.mark.parametrize("url", ["/about/", "/withdraw/"])
def test_the_consent_pages_work_under_the_policy(page: Page, url: str) -> None:
    console = watch(page)
    page.goto(url)
    links = page.get_by_role("navigation", name="The study")
    expect(links.get_by_role("link", name="About this study")).to_be_visible()
    if url == "/withdraw/":  # a refused code renders the page again, with its error
        page.get_by_label("Your withdrawal code").fill("ABCD-2345")
        page.get_by_role("button", name="Withdraw and delete my answers").click()
        expect(page.locator("#code-error")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert console == []
