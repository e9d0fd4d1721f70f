"""What a generation worker keeps between batches (bachsurvey.generation.warm): loaded once, read
again once its file changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bachsurvey.generation import music, warm


def test_the_model_is_kept_until_its_checkpoint_changes(
    checkpoint_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / checkpoint_path.name
    shutil.copy(checkpoint_path, copy)
    first = warm.model(copy, "cpu", 1)
    assert warm.model(copy, "cpu", 1) is first
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # written again
    again = warm.model(copy, "cpu", 1)
    assert again is not first and again.label == first.label
    with pytest.raises(music.GenerationError, match="not found"):
        warm.model(tmp_path / "missing.pt", "cpu", 1)


def test_the_corpus_and_its_windows_are_read_once() -> None:
    tokens, split = warm.corpus()
    assert warm.corpus()[0] is tokens and set(split) >= {"train", "validation"}
    assert tokens == music.corpus()[0]
    windows = warm.bach_windows()
    assert warm.bach_windows() is windows and windows.chorales.keys() == tokens.keys()
