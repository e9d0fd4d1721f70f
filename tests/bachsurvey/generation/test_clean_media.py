"""manage.py clean_media: clips and scores no row refers to go once older than the grace period;
referenced files, young files and anything outside the media folders stay."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bachsurvey.models import Clip, Question

pytestmark = pytest.mark.django_db
HOURS = 3600


def aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def orphan(media_root: Path, name: str, size: int, age: float) -> Path:
    path = media_root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return aged(path, age)


def clean(*args: str) -> list[str]:
    out = StringIO()
    call_command("clean_media", *args, stdout=out)
    return out.getvalue().splitlines()


@pytest.fixture
def media(media_root: Path, make_question: Callable[..., Question]) -> dict[str, Path]:
    """One question's four files (old, referenced) and orphans of every kind."""
    make_question("SATB")
    for clip in Clip.objects.all():
        for name in (clip.audio.name, clip.score.name):
            aged(media_root / name, 5 * HOURS)
    return {
        "old clip": orphan(media_root, "clips/dead.mp3", 1000, 2 * HOURS),
        "old score": orphan(media_root, "scores/dead.svg", 234, 2 * HOURS),
        "young clip": orphan(media_root, "clips/rendering.mp3", 500, 60),
        "elsewhere": orphan(media_root, "exports/keep.csv", 10, 9 * HOURS),
    }


def test_a_dry_run_lists_old_orphans_and_deletes_nothing(media: dict[str, Path]) -> None:
    lines = clean("--dry-run")
    assert lines[:2] == [
        "WOULD DELETE clips/dead.mp3 (1000 bytes)",
        "WOULD DELETE scores/dead.svg (234 bytes)",
    ]
    assert lines[2].startswith("2 orphaned files (1234 bytes) would be deleted from ")
    assert lines[2].endswith("kept 4 referenced, 1 younger than 3600 s")
    assert all(path.exists() for path in media.values())


def test_it_deletes_old_orphans_only(media: dict[str, Path], media_root: Path) -> None:
    lines = clean()
    assert lines[0] == "DELETE clips/dead.mp3 (1000 bytes)" and "1234 bytes) deleted" in lines[2]
    assert not media["old clip"].exists() and not media["old score"].exists()
    assert media["young clip"].exists() and media["elsewhere"].exists()
    for clip in Clip.objects.all():  # every file a row names is still there
        assert (media_root / clip.audio.name).is_file() and (media_root / clip.score.name).is_file()
    assert clean()[-1].startswith("0 orphaned files (0 bytes) deleted")


def test_the_grace_period_is_a_flag(media: dict[str, Path]) -> None:
    assert clean("--dry-run", "--grace", "30")[-1].startswith("3 orphaned files (1734 bytes)")
    assert clean("--dry-run", "--grace", str(3 * HOURS))[-1].startswith("0 orphaned files")
    with pytest.raises(CommandError, match="--grace: the grace period must be 0 seconds or more"):
        clean("--grace", "-5")
