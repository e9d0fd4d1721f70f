"""Nothing a participant receives before answering tells which clip is Bach."""

import re
from typing import Any

import pytest

from bachsurvey.models import Assignment

pytestmark = pytest.mark.django_db

AUDIO_URL = re.compile(r"^/m/[A-Za-z0-9_-]{34}$")  # bachsurvey.quiz.clip_urls: no file name
AUDIO_URL_ANYWHERE = re.compile(r"/m/[A-Za-z0-9_-]{34}")


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and types, not contents."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_it_shows_both_clips_alike(quiz: list, new_quiz_client: Any) -> None:
    sides_seen = set()
    for _ in range(6):
        data = new_quiz_client().started()
        for question in data["questions"]:
            assert set(question) == {"id", "position", "category", "clips"}
            a, b = question["clips"]
            assert (a["label"], b["label"]) == ("A", "B")
            assert shape(a) == shape(b) == {"label": "str", "audio_url": "str"}
            assert AUDIO_URL.match(a["audio_url"]) and AUDIO_URL.match(b["audio_url"])
            assert a["audio_url"] != b["audio_url"]
            assignment = Assignment.objects.get(participant=data["id"], question=question["id"])
            sides_seen.add(assignment.bach_side)
    assert sides_seen == {"A", "B"}  # the URLs above said nothing, yet Bach was on both sides


def test_it_reveals_nothing_in_progress_before_an_answer(quiz: list, quiz_client: Any) -> None:
    data = quiz_client.started()
    progress = quiz_client.progress(data["id"]).json()
    for question in progress["questions"]:
        assert question["answer"] is None
        assert set(question) == {"id", "position", "category", "clips", "answer"}
    # The clip URLs are random tokens (AUDIO_URL above), which may spell any word by chance.
    text = AUDIO_URL_ANYWHERE.sub("/m/<token>", str(progress)).lower()
    for word in ("bach", "real", "generated", "score", "svg", "correct", "bwv"):
        assert word not in text, word


def test_it_names_files_at_random(quiz: list) -> None:
    for question in quiz:
        for clip in (question.clip_real, question.clip_generated):
            assert re.fullmatch(r"clips/[0-9a-f]{32}\.mp3", clip.audio.name)
            assert re.fullmatch(r"scores/[0-9a-f]{32}\.svg", clip.score.name)
