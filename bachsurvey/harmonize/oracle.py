"""The harmonizer must not be an oracle for the quiz.

Who would cheat: a participant who hears a harmonization question (Bach's voices against the
network's re-writing of some of them, the rest shared) types the shared melody into /harmonize/;
the page, with the same checkpoint and search as the batches, writes back what the network wrote,
and the clip that matches it is the machine's. The same works sideways: a free composition's
own melody harmonized by the network tends to come back close to the piece (the lower voices are
what the model finds likely under it), and a line of the Bach clip that does *not* come back
tells as much. And the page lets a melody sit in any voice.

So the guard is wider than "the soprano of harmonization questions": every voice of both clips
of every live question, free pairs included, over the frames the clip plays (what a participant
can hear and copy; a chorale known by heart still contains those frames). A melody that shares a
run of RUN_NOTES notes (transposition-invariant, composer.harmonization.intervals) with any of
them is refused, and the refusal names no chorale. Lines are built once per set of live clips
and kept in this process until the set changes.
"""

from __future__ import annotations

import threading
from typing import Any

from django.utils.translation import gettext as _

from bachsurvey.models import Chorale, Question


class QuizMelody(Exception):
    """The melody shares a run with a line that a live quiz question plays."""


_lock = threading.Lock()
_built: dict[str, Any] = {"clips": None, "runs": frozenset()}


def live_clips() -> tuple[tuple[int, int, int], ...]:
    """(chorale id, first frame, end frame) of both clips of every live question, sorted."""
    rows = Question.objects.filter(live=True).values_list(
        "clip_real__chorale_id",
        "clip_real__frame_start",
        "clip_real__frame_end",
        "clip_generated__chorale_id",
        "clip_generated__frame_start",
        "clip_generated__frame_end",
    )
    return tuple(sorted({clip for row in rows for clip in (row[:3], row[3:])}))


def quiz_runs() -> frozenset:
    """Every run of RUN_NOTES notes of every voice of every live clip (cached by clip set)."""
    clips = live_clips()
    with _lock:
        if _built["clips"] != clips:
            _built["runs"] = frozenset(_runs_of(clips))
            _built["clips"] = clips
        return _built["runs"]


def _runs_of(clips: tuple[tuple[int, int, int], ...]) -> set:
    from composer.encoding import EncodingError, tokens_to_chorale
    from composer.harmonization.intervals import chorale_runs
    from composer.pairing import window_chorale

    tokens = dict(Chorale.objects.filter(pk__in={c[0] for c in clips}).values_list("pk", "tokens"))
    windows = []
    whole: dict[int, Any] = {}
    for chorale_id, start, end in clips:
        try:
            if chorale_id not in whole:
                whole[chorale_id] = tokens_to_chorale(tokens[chorale_id])
            chorale = whole[chorale_id]
            windows.append(window_chorale(chorale, start, min(end, chorale.frames)))
        except (EncodingError, ValueError, KeyError):
            continue  # a stored stream that does not decode plays no line to copy
    return chorale_runs(windows)


def refuse_quiz_melody(notes: Any) -> None:
    """QuizMelody when ``notes`` (composer Notes, in order) share a run with a live clip."""
    from composer.harmonization.intervals import RUN_NOTES, shared_run

    if len(notes) < RUN_NOTES:
        return
    if shared_run(notes, set(quiz_runs())) is not None:
        raise QuizMelody(
            _(
                "this melody shares %(notes)s notes in a row (in some key) with music that the "
                "listening test plays, and the harmonizer must not give away the test's "
                "answers; please try another melody"
            )
            % {"notes": RUN_NOTES}
        )
