"""Content-Security-Policy on every HTML page, no inline script or style for it to block, and
Cache-Control: no-store on every API reply (issue 19, item 5)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import django.contrib.admin
import pytest
from django.conf import settings
from django.test import Client

from bachsurvey.security_headers import (
    ADMIN_CONTENT_SECURITY_POLICY,
    ADMIN_INLINE_STYLES,
    ADMIN_TEMPLATES,
    CONTENT_SECURITY_POLICY,
)
from tests.bachsurvey.conftest import QuizClient
from tests.bachsurvey.research import data as research_data

DATA_BLOCKS = {"application/json", "application/ld+json"}  # never run by the browser


class InlineFinder(HTMLParser):
    """What a CSP without 'unsafe-inline' blocks: inline scripts, on* handlers, inline styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src") and named.get("type") not in DATA_BLOCKS:
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")


def inline_parts(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def templates() -> list[Path]:
    ours = Path(settings.BASE_DIR) / "templates"
    admin = Path(django.contrib.admin.__file__).parent / "templates"
    return sorted([*ours.rglob("*.html"), *admin.rglob("*.html")])


@pytest.mark.parametrize("template", templates(), ids=lambda path: "/".join(path.parts[-3:]))
def test_no_template_holds_inline_script_or_style(template: Path) -> None:
    """Ours and Django's admin (which the admin pages render under the same policy, but for the
    <style> blocks of ADMIN_INLINE_STYLES, allowed there by their hashes)."""
    found = inline_parts(template.read_text())
    if template.is_relative_to(ADMIN_TEMPLATES):
        name = template.relative_to(ADMIN_TEMPLATES).as_posix()
        if name in ADMIN_INLINE_STYLES:
            assert found and all(part.startswith("<style>") for part in found)
            return
    assert found == []


def assert_protected(response: Any, policy: str = CONTENT_SECURITY_POLICY) -> None:
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    assert response["Content-Security-Policy"] == policy
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'" and "unsafe-" not in CONTENT_SECURITY_POLICY
    assert inline_parts(response.content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/accounts/login/", "/research/", "/admin/login/", "/no-such-page"]
)
def test_every_page_for_anyone_has_the_policy(client: Client, url: str) -> None:
    response = client.get(url, follow=True)
    assert response.status_code in (200, 403, 404)
    admin = response.request["PATH_INFO"].startswith("/admin/")
    assert_protected(response, ADMIN_CONTENT_SECURITY_POLICY if admin else CONTENT_SECURITY_POLICY)


def test_the_consent_quiz_and_results_page_has_the_policy(quiz: list, client: Client) -> None:
    """One page holds consent, questions and results: before, during and after a quiz."""
    assert_protected(client.get("/"))
    participant = QuizClient(client).started()
    assert_protected(client.get("/"))
    for question in participant["questions"]:
        QuizClient(client).answer(participant["id"], question["id"])
    assert_protected(client.get("/"))


def test_the_dashboard_has_the_policy_and_its_plots_no_inline_style(seeded: Any) -> None:
    client = Client()
    client.force_login(research_data.make_user("rose", researcher=True))
    response = client.get("/research/")
    assert response.status_code == 200 and response.content.count(b"<svg") == 8  # wide and narrow
    assert_protected(response)


def test_the_api_reference_has_the_policy(client: Client) -> None:
    assert_protected(client.get("/api/docs/"))


def test_the_admin_pages_have_the_policy(admin_client: Client, quiz: list) -> None:
    question = quiz[0]
    for url in (
        "/admin/",
        "/admin/bachsurvey/question/",
        f"/admin/bachsurvey/question/{question.pk}/change/",
        f"/admin/bachsurvey/question/{question.pk}/review/",
        "/admin/bachsurvey/batch/",
        "/admin/auth/user/add/",
        "/admin/axes/accessattempt/",  # the login lockouts
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_protected(response, ADMIN_CONTENT_SECURITY_POLICY)


def test_clips_keep_their_own_policy(quiz: list, client: Client) -> None:
    participant = QuizClient(client).started()
    clip = client.get(participant["questions"][0]["clips"][0]["audio_url"])
    assert clip.status_code == 200
    assert clip["Content-Security-Policy"] != CONTENT_SECURITY_POLICY
    assert clip["Content-Security-Policy"].startswith("default-src 'none'")


def test_every_api_reply_is_no_store(quiz: list, client: Client, api: Any) -> None:
    """Back then Forward must ask the server again, not show an answered question."""
    quiz_client = QuizClient(client)
    started = quiz_client.start()
    participant = started.json()
    replies = [
        started,
        quiz_client.progress(participant["id"]),
        quiz_client.answer(participant["id"], participant["questions"][0]["id"]),
        quiz_client.answer(participant["id"], "not-a-question"),  # 400
        client.get("/api/participants/00000000-0000-0000-0000-000000000000/"),  # 404
        client.get("/api/schema/"),
        api.get("/api/results/summary/"),
        api.get("/api/results/items/"),
        api.get("/api/results/answers.csv"),
        api.get("/api/results/answers.json"),
        Client().get("/api/results/summary/"),  # refused
        quiz_client.withdraw(participant["id"]),
    ]
    for reply in replies:
        # The export says "private, no-store" itself; the middleware keeps that stricter value.
        assert reply.get("Cache-Control") in ("no-store", "private, no-store"), (
            reply.request["PATH_INFO"],
            reply,
        )
