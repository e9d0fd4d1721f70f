"""A staff member reviews a generated question in the admin, approves it, and it goes live."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from bachsurvey.models import Batch, Chorale, Question

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("short_quiz")]

STYLE = {"parallel_fifths": {"value": 3.1, "bach_mean": 0.4, "bach_p10": 0.0, "bach_p90": 1.2}}


@pytest.fixture
def draft() -> Question:
    """A demo SATB question, moved into a finished generation batch and back to draft."""
    question = Question.objects.filter(category="SATB").first()
    batch = Batch.objects.create(name="night run", mode="free", voices="SATB", count=1,
                                 status=Batch.Status.DONE, done=1)  # fmt: skip
    Chorale.objects.filter(pk=question.clip_generated.chorale_id).update(
        batch=batch, index=0, style=STYLE
    )
    Question.objects.filter(pk=question.pk).update(status="draft", live=False)
    return question


def test_a_reviewer_approves_a_sample_and_it_goes_live(page: Page, draft: Question) -> None:
    User.objects.create_superuser("reviewer", "r@example.org", "a long pass phrase")
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill("a long pass phrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Batches")).to_be_visible()

    page.goto(f"/admin/bachsurvey/question/?batch={Batch.objects.get(name='night run').pk}")
    page.get_by_role("link", name="listen").click()
    expect(page.locator("#review-status")).to_have_text("draft")
    audio = page.locator("audio")
    expect(audio).to_have_count(2)
    for i in range(2):  # both clips load and can be played side by side
        assert audio.nth(i).evaluate("a => a.play().then(() => !a.paused)")
        audio.nth(i).evaluate("a => a.pause()")
    expect(page.locator("img[alt^='score']")).to_have_count(2)
    assert page.locator("img[alt^='score']").first.evaluate("i => i.naturalWidth > 0")
    expect(page.locator("#style-report")).to_contain_text("parallel fifths")

    page.get_by_role("button", name="Approve and put live").click()
    expect(page.locator(".messagelist")).to_contain_text("is live")
    expect(page.locator("#review-status")).to_have_text("approved, live")
    draft.refresh_from_db()
    assert (draft.status, draft.live) == ("approved", True)
