"""A batch's admin page follows the batch by itself: the progress bar moves as pieces are stored
and stops asking once the batch ends, without a reload, under the site's CSP."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from bachsurvey.models import Batch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_progress_bar_moves_and_stops_when_the_batch_ends(page: Page) -> None:
    User.objects.create_superuser("runner", "r@example.org", "a long pass phrase")
    batch = Batch.objects.create(
        name="night run", mode="free", voices="SATB", count=4, status=Batch.Status.RUNNING
    )
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("runner")
    page.get_by_label("Password").fill("a long pass phrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/bachsurvey/batch/{batch.pk}/change/")
    bar, text = page.locator("#batch-progress"), page.locator("#batch-progress-text")
    expect(bar).to_have_js_property("value", 0)
    page.evaluate("() => { window.notReloaded = true; }")

    # The worker stores pieces (the rows move as the task moves them); the page follows.
    Batch.objects.filter(pk=batch.pk).update(done=2, stage="rendering piece 3 of 4")
    expect(bar).to_have_js_property("value", 2)
    expect(text).to_have_text("2 / 4, running: rendering piece 3 of 4")
    Batch.objects.filter(pk=batch.pk).update(done=4, stage="", status=Batch.Status.DONE)
    expect(bar).to_have_js_property("value", 4)
    expect(text).to_have_text("4 / 4, done")
    expect(bar).to_have_attribute("data-ended", "true")
    assert page.evaluate("() => window.notReloaded === true")

    # Ended: it asks no more.
    polls = [url for url in asked if url.endswith("/progress.json")]
    page.wait_for_timeout(5000)
    assert [url for url in asked if url.endswith("/progress.json")] == polls
    assert not [line for line in console if "Content Security Policy" in line], console
