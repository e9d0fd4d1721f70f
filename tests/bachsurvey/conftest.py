"""Survey content for the tests: live questions with small stand-in media files."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client

from bachsurvey import services
from bachsurvey.models import Category, Chorale, Question

# Two questions of every category and four SATB, each on its own source chorale.
QUIZ_CATEGORIES = ["S", "A", "T", "B", "AT", "ATB"] * 2 + ["SATB"] * 4
BACKGROUND = {"consent": True, "age_group": "26-45", "experience": "intermediate"}


@pytest.fixture
def media_root(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored(media_root: Path, folder: str, suffix: str, content: bytes) -> str:
    name = f"{folder}/{secrets.token_hex(16)}{suffix}"
    (media_root / folder).mkdir(parents=True, exist_ok=True)
    (media_root / name).write_bytes(content)
    return name


@pytest.fixture
def make_question(media_root: Path) -> Callable[..., Question]:
    counter = iter(range(1, 10_000))

    def make(category: str, source: str | None = None, frames: int = 32, live: bool = True):
        source = source or f"bwv{next(counter)}.6"
        clips = []
        for kind, mask in ((Chorale.Kind.REAL, ""), (Chorale.Kind.GENERATED, category)):
            chorale = Chorale.objects.create(
                kind=kind,
                tokens=["START", "END"],
                frames=frames,
                source="" if category == Category.SATB and mask else source,
                mask=mask,
            )
            clips.append(
                services.add_clip(
                    chorale=chorale,
                    frame_start=0,
                    frame_end=frames,
                    audio=_stored(media_root, "clips", ".mp3", b"\xff\xfb" * 500),
                    score=_stored(media_root, "scores", ".svg", b"<svg/>"),
                    duration_s=frames * 0.125 + 1,
                )
            )
        return services.add_question(
            category=category, clip_real=clips[0], clip_generated=clips[1], live=live
        )

    return make


@pytest.fixture
def quiz(db: None, make_question: Callable[..., Question]) -> list[Question]:
    return [make_question(category) for category in QUIZ_CATEGORIES]


class QuizClient:
    """A browser session talking to the participant API."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()

    def start(self, **overrides: object) -> HttpResponse:
        return self.client.post(
            "/api/participants/", {**BACKGROUND, **overrides}, content_type="application/json"
        )

    def started(self, **overrides: object) -> dict:
        response = self.start(**overrides)
        assert response.status_code == 201, response.content
        return response.json()

    def answer(self, participant_id: str, question_id: str, choice: str = "A", **overrides):
        body = {
            "question": question_id,
            "choice": choice,
            "response_ms": 4200,
            "plays": {"A": 1, "B": 2},
            "heard_fully": {"A": True, "B": True},
        }
        return self.client.post(
            f"/api/participants/{participant_id}/answers/",
            {**body, **overrides},
            content_type="application/json",
        )

    def progress(self, participant_id: str) -> HttpResponse:
        return self.client.get(f"/api/participants/{participant_id}/")

    def withdraw(self, participant_id: str) -> HttpResponse:
        return self.client.post(f"/api/participants/{participant_id}/withdraw/")


@pytest.fixture
def quiz_client(client: Client) -> QuizClient:
    return QuizClient(client)


@pytest.fixture
def new_quiz_client() -> Callable[[], QuizClient]:
    """Another browser: a fresh session."""
    return QuizClient
