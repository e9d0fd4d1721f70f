"""Requests to the harmonizer's API, and quiz content whose lines the oracle guard must know."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.http import HttpResponse
from django.test import Client

from bachsurvey.generation import content
from bachsurvey.models import Chorale, Question
from composer.encoding import Chorale as Music
from composer.encoding import Note, chorale_to_tokens

SHORT = "G4 | C5 C5 D5 E5 | D5:2 C5:2^"  # an upbeat and two bars: quick to harmonize
# Eight notes (seven steps) of a hymn-like line, as MIDI pitches, for the oracle tests.
LINE = [67, 69, 71, 72, 71, 69, 67, 66, 67]


def post(client: Client, melody: str, fmt: str = "text", **fields: object) -> HttpResponse:
    body = {"melody": melody, "format": fmt, "method": "beam", "beam_width": 2, **fields}
    return client.post("/api/harmonizations/", body, content_type="application/json")


def text_of(midis: list[int], shift: int = 0) -> str:
    """A text melody of quarter notes, moved by ``shift`` semitones."""
    from music21 import pitch

    return " ".join(pitch.Pitch(midi=m + shift).nameWithOctave for m in midis)


def music(lines: dict[int, list[int]], frames: int = 64) -> list[str]:
    """Tokens of a chorale whose voice ``v`` sings ``lines[v]`` in quarter notes."""
    voices = tuple(
        tuple(Note(4 * i, 4 * i + 4, m) for i, m in enumerate(lines.get(v, []))) for v in range(4)
    )
    return chorale_to_tokens(Music(voices, frames))


def _media(root: Path, folder: str, suffix: str) -> str:
    name = f"{folder}/{secrets.token_hex(8)}{suffix}"
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(secrets.token_bytes(64))
    return name


def question(
    root: Path, real: list[str], generated: list[str], category: str = "ATB", live: bool = True,
    frames: tuple[int, int] = (0, 64),
) -> Question:  # fmt: skip
    """A question on these two token streams (the clips play ``frames``)."""
    rows = [
        Chorale.objects.create(kind="real", tokens=real, frames=64, source=secrets.token_hex(4)),
        Chorale.objects.create(kind="generated", tokens=generated, frames=64, mask=category),
    ]
    clips = [
        content.add_clip(
            chorale=row, frame_start=frames[0], frame_end=frames[1],
            audio=_media(root, "clips", ".mp3"), score=_media(root, "scores", ".svg"),
            duration_s=9.0,
        )
        for row in rows
    ]  # fmt: skip
    return content.add_question(
        category=category, clip_real=clips[0], clip_generated=clips[1], live=live
    )
