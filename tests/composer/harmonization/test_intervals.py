"""Lines compared by intervals: transposition-invariant, eight notes in a row, held notes one."""

from __future__ import annotations

from composer.encoding import Chorale, Note
from composer.harmonization.intervals import chorale_runs, runs, shared_run, steps


def line(midis: list[int], lengths: list[int] | None = None) -> tuple[Note, ...]:
    notes, start = [], 0
    for i, midi in enumerate(midis):
        length = lengths[i] if lengths else 4
        notes.append(Note(start, start + length, midi))
        start += length + (2 if i == 2 else 0)  # a rest after the third note
    return tuple(notes)


BACH = [67, 67, 69, 71, 72, 71, 69, 67, 66, 67]


def test_a_transposed_copy_of_eight_notes_shares_a_run() -> None:
    known = chorale_runs([Chorale((line(BACH), (), (), ()), 64)])
    assert len(known) == 3  # ten notes: runs starting at notes 0, 1 and 2
    copied = line([m - 5 for m in BACH[2:10]], [8, 2, 2, 4, 4, 4, 1, 16])  # other key, rhythm
    assert shared_run(copied, known) == 0
    assert shared_run(line([60, 62, *[m + 3 for m in BACH[1:9]]]), known) == 2


def test_seven_notes_or_one_changed_step_share_nothing() -> None:
    known = chorale_runs([Chorale(((), (), line(BACH), ()), 64)])  # any voice counts
    assert shared_run(line(BACH[:7]), known) is None
    changed = [*BACH[:5], 70, *BACH[6:]]
    assert shared_run(line(changed), known) is None


def test_held_notes_are_one_note_and_restruck_notes_two() -> None:
    held = (Note(0, 8, 60), Note(8, 12, 62))
    assert steps(held) == [2]
    assert steps((Note(0, 4, 60), Note(4, 8, 60), Note(8, 12, 62))) == [0, 2]
    assert runs(held) == set()
