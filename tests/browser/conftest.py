"""Playwright driving Debian's chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM calls
there ("async unsafe"); the tests only read the database after the page has acted, so they are
allowed explicitly. The browser is Debian's (never a downloaded one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# Assertions wait as long as actions do (the page's 15 s): on a loaded 2-core machine a one-second
# clip reported "Heard to the end" later than expect's default 5 s (CI run of 2026-12-06).
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo"
CLIP_SECONDS = 1.0
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (see .ci/setup)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: object) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def short_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed demo with every clip replaced by a one-second tone, so a quiz takes seconds.

    Each clip gets a tone of its own pitch: the validity rules refuse one audio file (by content)
    behind two questions, as they would the demo's own clips."""
    folder = tmp_path_factory.mktemp("short-demo")
    shutil.copytree(DEMO / "scores", folder / "scores")
    (folder / "clips").mkdir()
    manifest = json.loads((DEMO / "manifest.json").read_text())
    for number, clip in enumerate(manifest["clips"]):
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
             f"sine=frequency={300 + 10 * number}:duration={CLIP_SECONDS}", "-ac", "2",
             "-ar", "44100", "-b:a", "128k", str(folder / clip["audio"])],
            check=True,
        )  # fmt: skip
        clip["duration_s"] = CLIP_SECONDS
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def media_root(settings: object, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def short_quiz(transactional_db: None, media_root: Path, short_demo: Path) -> None:
    call_command("seed_demo", "--fixtures", str(short_demo), verbosity=0)
