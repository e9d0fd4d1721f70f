"""Melodic lines compared by their intervals: the harmonizer's web page refuses a melody that
shares a run of notes with a line a quiz question plays, whatever its key.

A line is the notes of one voice in order (a held note is one note; a note struck again is two;
rests are skipped, since whoever copies a line by ear may well leave them out). Its shape is the
sequence of semitone steps between successive notes, the same in every key. Two lines share a
run when RUN_NOTES notes in a row of each (RUN_NOTES - 1 steps) move by the same steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from composer.encoding import Chorale, Note

RUN_NOTES = 8  # eight notes, seven steps: longer than the figures any two tunes share by chance

Run = tuple[int, ...]


def steps(notes: Sequence[Note]) -> list[int]:
    """Semitones from each note to the next."""
    return [after.midi - before.midi for before, after in zip(notes, notes[1:], strict=False)]


def runs(notes: Sequence[Note], length: int = RUN_NOTES) -> set[Run]:
    """Every run of ``length`` notes of a line, as its ``length - 1`` steps."""
    moves = steps(notes)
    size = length - 1
    return {tuple(moves[i : i + size]) for i in range(len(moves) - size + 1)}


def chorale_runs(chorales: Iterable[Chorale], length: int = RUN_NOTES) -> set[Run]:
    """The runs of every voice of every chorale."""
    return {run for chorale in chorales for voice in chorale.voices for run in runs(voice, length)}


def shared_run(notes: Sequence[Note], known: set[Run], length: int = RUN_NOTES) -> int | None:
    """The index of the first note of ``notes`` that starts a run in ``known``, or None."""
    moves = steps(notes)
    size = length - 1
    for i in range(len(moves) - size + 1):
        if tuple(moves[i : i + size]) in known:
            return i
    return None
