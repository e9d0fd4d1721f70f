"""The harmonizer's page in chromium, on a desktop and a phone: a melody typed, uploaded, and
played on the on-screen piano comes back as a score, audio and downloads; an upbeat keeps its bar
lines; a melody the quiz plays is refused; and the page breaks none of its CSP."""

from __future__ import annotations

from pathlib import Path

import pytest
from music21 import converter, note, stream
from playwright.sync_api import Browser, Page, expect

from tests.bachsurvey.harmonize.helpers import LINE, music, question, text_of
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_csp import watch

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("in_process_tasks")]


@pytest.fixture(params=["desktop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser, live_server, media_root: Path):
    """The page at a desktop's or a phone's size (a phone: touch, and a narrow screen)."""
    phone = request.param == "phone"
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP, base_url=live_server.url, has_touch=phone,
        is_mobile=phone,
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(60_000)  # a harmonization takes seconds on a busy machine
    console = watch(page)
    page.goto("/harmonize/")
    yield page
    assert page.evaluate("window.cspViolations") == [] and console == []
    context.close()


def harmonize(page: Page, method: str = "Greedy") -> None:
    page.get_by_label(method, exact=False).check()
    page.get_by_role("button", name="Harmonize").click()


def result(page: Page) -> dict:
    """The shown result: the score drawn, the audio loaded, the downloads' bytes."""
    expect(page.locator("#result")).to_be_visible()
    expect(page.locator("#score")).to_have_js_property("complete", True)
    assert page.locator("#score").evaluate("img => img.naturalWidth") > 0
    page.wait_for_function("document.getElementById('audio').readyState >= 1")
    assert page.locator("#audio").evaluate("audio => audio.duration") > 1
    files = {}
    for kind in ("musicxml", "midi"):
        href = page.locator(f"#download-{kind}").get_attribute("href")
        reply = page.request.get(href)
        assert reply.status == 200
        files[kind] = reply.body()
    assert files["midi"].startswith(b"MThd")
    return files


def soprano(musicxml: bytes) -> list[stream.Measure]:
    score = converter.parseData(musicxml.decode(), format="musicxml")
    return list(score.parts[0].getElementsByClass(stream.Measure))


def test_a_typed_upbeat_melody_keeps_its_bar_lines(screen: Page) -> None:
    screen.get_by_label("Melody", exact=True).fill("G4 | C5 C5 D5 E5 | D5:2 B4 G4 | C5:3^")
    harmonize(screen)
    measures = soprano(result(screen)["musicxml"])
    assert (measures[0].number, measures[0].paddingLeft) == (0, 3.0)  # the pickup: one beat
    assert [n.nameWithOctave for n in measures[0].notes] == ["G4"]
    assert [n.nameWithOctave for n in measures[1].notes] == ["C5", "C5", "D5", "E5"]
    expect(screen.locator("#summary")).to_contain_text("C major")


def test_a_melody_file_is_uploaded(screen: Page, tmp_path: Path) -> None:
    path = tmp_path / "melody.mid"
    notes = [note.Note(p, quarterLength=1) for p in ("E5", "D5", "C5", "D5", "E5", "E5")]
    stream.Part([*notes, note.Note("E5", quarterLength=2)]).write("midi", fp=str(path))
    screen.get_by_label("A file").check()
    screen.locator("#melody-file").set_input_files(str(path))
    harmonize(screen, "Beam")
    bars = soprano(result(screen)["musicxml"])
    assert [n.nameWithOctave for n in bars[0].notes] == ["E5", "D5", "C5", "D5"]


def test_a_melody_is_played_on_the_on_screen_piano(screen: Page) -> None:
    screen.get_by_label("Play it").check()
    screen.get_by_label("Melody", exact=True).fill("")
    screen.get_by_role("button", name="Octave up").click()  # C5 up to C6
    for key in ("C5 (key A)", "D5 (key S)", "E5 (key D)"):  # clicked, or tapped on the phone
        screen.get_by_role("button", name=key).click()
    screen.locator("#piano").focus()
    screen.keyboard.press("d")  # the computer's D key: E5
    screen.get_by_role("button", name="Half").click()
    screen.locator("#piano").focus()
    screen.keyboard.press("f")  # F5, a half note
    screen.get_by_role("button", name="Fermata on the last note").click()
    screen.get_by_role("button", name="Quarter").click()
    screen.get_by_role("button", name="Rest").click()
    expect(screen.get_by_label("Melody", exact=True)).to_have_value("C5 D5 E5 E5 F5:2^ r")
    harmonize(screen)
    bars = soprano(result(screen)["musicxml"])
    assert [n.nameWithOctave for n in bars[0].notes] == ["C5", "D5", "E5", "E5"]
    assert [(n.nameWithOctave, n.quarterLength) for n in bars[1].notes] == [("F5", 2.0)]


def test_a_melody_the_quiz_plays_is_refused(screen: Page, media_root: Path) -> None:
    question(media_root, music({0: LINE}), music({0: LINE, 1: [60] * 8}))
    screen.get_by_label("Melody", exact=True).fill(text_of(LINE, shift=3))
    harmonize(screen)
    expect(screen.get_by_role("alert")).to_contain_text("listening test")
    expect(screen.locator("#result")).to_be_hidden()
