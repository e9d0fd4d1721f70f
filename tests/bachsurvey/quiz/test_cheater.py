"""A cheater with a script, against the real API and the demo pool (issue 16, rule 11).

Throw-away browsers start quizzes and fetch every clip; others answer every question and pool
what the replies reveal. A fresh participant then gains nothing from the pool: none of its URLs
is known, no clip of its quiz was ever heard behind another question, and the side Bach took for
the previous participant says nothing about its own. A script that answers without fetching the
clips is caught by the server's own record of what it sent.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from scipy.stats import binomtest

from bachsurvey.models import Assignment
from bachsurvey.research import records
from bachsurvey.research.stats import Exclusions, apply_exclusions
from tests.bachsurvey.conftest import BACKGROUND

pytestmark = pytest.mark.django_db

STARTERS, ANSWERERS = 25, 40


class Browser:
    def __init__(self) -> None:
        self.client = Client()

    def start(self) -> dict:
        response = self.client.post(
            "/api/participants/", BACKGROUND, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    def fetch(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200
        return hashlib.sha256(response.content).hexdigest()

    def answer(self, participant: str, question: str, choice: str = "A") -> dict:
        body = {"question": question, "choice": choice, "response_ms": 9000, "elapsed_ms": 30000,
                "plays": {"A": 1, "B": 1}, "heard_fully": {"A": True, "B": True}}  # fmt: skip
        response = self.client.post(f"/api/participants/{participant}/answers/", body,
                                    content_type="application/json")  # fmt: skip
        assert response.status_code == 201, response.content
        return response.json()


class Pool:
    """What the cheaters learned together."""

    def __init__(self) -> None:
        self.urls: set[str] = set()
        self.questions_by_audio: dict[str, set[str]] = defaultdict(set)

    def see(self, question: dict, browser: Browser) -> dict[str, str]:
        hashes = {}
        for clip in question["clips"]:
            self.urls.add(clip["audio_url"])
            hashes[clip["label"]] = browser.fetch(clip["audio_url"])
            self.questions_by_audio[hashes[clip["label"]]].add(question["id"])
        return hashes


@pytest.fixture
def demo(media_root: Path) -> None:
    call_command("seed_demo", stdout=StringIO())


def test_a_pooling_script_learns_nothing_the_next_participant_can_use(demo: None) -> None:
    pool = Pool()
    for _ in range(STARTERS):  # start, fetch everything, leave
        browser = Browser()
        for question in browser.start()["questions"]:
            pool.see(question, browser)
    for _ in range(ANSWERERS):  # answer everything; the replies say where Bach was
        browser = Browser()
        quiz = browser.start()
        for question in quiz["questions"]:
            pool.see(question, browser)
            assert browser.answer(quiz["id"], question["id"])["bach"] in "AB"

    # "A clip met in two questions is Bach": no clip was ever met in two questions.
    assert all(len(questions) == 1 for questions in pool.questions_by_audio.values())

    fresh = Browser()
    quiz = fresh.start()
    for question in quiz["questions"]:
        assert not {clip["audio_url"] for clip in question["clips"]} & pool.urls
        for label, digest in pool.see(question, fresh).items():
            assert pool.questions_by_audio[digest] == {question["id"]}, label

    # "Bach goes where it was not last time": right about half the time, as a coin is.
    sides: dict[object, list[str]] = defaultdict(list)
    for question, side in Assignment.objects.order_by("pk").values_list("question", "bach_side"):
        sides[question].append(side)
    guesses = [(a != b) for seq in sides.values() for a, b in zip(seq, seq[1:], strict=False)]
    assert len(guesses) > 200
    assert binomtest(sum(guesses), len(guesses), 0.5).pvalue > 0.001, (sum(guesses), len(guesses))


def test_answers_without_the_clips_are_excluded_whatever_the_browser_claims(demo: None) -> None:
    listener, script = Browser(), Browser()
    for browser, listens in ((listener, True), (script, False)):
        quiz = browser.start()
        for question in quiz["questions"]:
            if listens:
                for clip in question["clips"]:
                    browser.fetch(clip["audio_url"])
            browser.answer(quiz["id"], question["id"])  # both claim to have heard it all
    stored = records.answer_records()
    kept, report = apply_exclusions(stored, Exclusions(not_heard_fully=True))
    assert report["not_heard_fully"]["excluded"] == 5
    assert len(kept) == 5 and {r.participant_id for r in kept} == {
        str(Assignment.objects.filter(answer__served__A=1.0).first().participant_id)}  # fmt: skip
