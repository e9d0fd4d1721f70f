"""What a generation worker keeps between batches: the model, the prepared corpus and its Bach
windows (with each chorale's key, analysed on first need), each read again once its file changes.

A batch's task spends seconds on these before it samples (loading the checkpoint, reading the
corpus, cutting every chorale into phrase windows, music21's key analysis of the chorales it
pairs with), and none of it depends on the batch. Kept per worker process, only the first batch
pays; a retrained checkpoint or a prepared corpus written again (a new modification time or
size) is read afresh. What is returned is shared: callers read it and never change it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from bachsurvey.generation import music

Stamp = tuple[str, int, int]  # path, modification time (ns), size


def _stamp(path: Path) -> Stamp:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def model(path: str | Path, device: str, threads: int | None) -> music.LoadedModel:
    """music.load_model(path, device, threads), loaded once while the file stays the same."""
    path = Path(path)
    if not path.is_file():
        return music.load_model(path, device, threads)  # its own error: no checkpoint
    return _model(_stamp(path), device, threads)


@functools.lru_cache(maxsize=2)
def _model(stamp: Stamp, device: str, threads: int | None) -> music.LoadedModel:
    return music.load_model(stamp[0], device, threads)


def _corpus_stamps() -> tuple[Stamp, ...] | None:
    from composer import prepare

    files = (prepare.CORPUS_DIR / "tokens.json", prepare.SPLIT_PATH)
    return tuple(_stamp(f) for f in files) if all(f.is_file() for f in files) else None


def corpus() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """music.corpus(): the prepared chorales' tokens and the split, read once while unchanged."""
    stamps = _corpus_stamps()
    return music.corpus() if stamps is None else _corpus(stamps)


@functools.lru_cache(maxsize=1)
def _corpus(stamps: tuple[Stamp, ...]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    return music.corpus()


def bach_windows() -> Any:
    """music.bach_windows() of the corpus: every chorale's phrase windows, and the keys found."""
    stamps = _corpus_stamps()
    return music.bach_windows(corpus()[0]) if stamps is None else _windows(stamps)


@functools.lru_cache(maxsize=1)
def _windows(stamps: tuple[Stamp, ...]) -> Any:
    return music.bach_windows(_corpus(stamps)[0])
