"""The practice pair: static, never stored, and its chorale never in a quiz."""

import random
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from bachsurvey.models import Answer, Assignment, Participant
from bachsurvey.quiz import practice, services, sql

pytestmark = pytest.mark.django_db


def test_its_files_are_shipped() -> None:
    payload = practice.practice_payload()
    static = Path(settings.BASE_DIR) / "static"
    urls = [c["audio_url"] for c in payload["clips"]] + [s["score_url"] for s in payload["scores"]]
    for url in [*urls, payload["sound_check"]]:
        path = static / url.removeprefix(settings.STATIC_URL)
        assert path.is_file() and path.stat().st_size > 1000, url
    assert payload["bach"] in ("A", "B") and payload["category"] == "ATB"


def test_its_chorale_is_never_drawn(make_question: Any) -> None:
    for category in ["S", "AT", "ATB", "SATB", "SATB"]:
        make_question(category)
    kept_out = make_question("ATB", source=practice.PRACTICE_CHORALE)
    for seed in range(40):
        drawn = services.draw_from(sql.live_questions(), random.Random(seed))
        assert kept_out.pk not in {q.pk for q in drawn}


def test_the_page_carries_it_and_the_server_stores_nothing(quiz: list, client: Any) -> None:
    page = client.get("/")
    assert b'id="quiz-practice"' in page.content
    assert practice.PRACTICE_TITLE.encode() in page.content
    # Showing the page (sound check and practice happen in it) writes no row at all.
    assert not (
        Participant.objects.exists() or Assignment.objects.exists() or Answer.objects.exists()
    )
