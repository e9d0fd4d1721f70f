"""What the judge may look at: the notes of an excerpt (a Chorale) and nothing else — no audio,
file, name or timing — summarised as rates that do not grow with the excerpt's length.

Each feature is a musical fact a listener could hear, so that the judge's largest weights read as
tells in words: melodic intervals and turns per voice, note lengths, parallel fifths and octaves
between any two voices and voice crossings (as composer.style counts them), rests, where fermatas
fall in the bar, and whether the bass ends on the tonic.
"""

from __future__ import annotations

import numpy as np

from composer.encoding import Chorale
from composer.style import crossing_frames, parallels, sounding
from composer.voices import VOICES

STEP_BINS = (("unison", 0, 0), ("step", 1, 2), ("third", 3, 4), ("fourth-fifth", 5, 7),
             ("large leap", 8, 127))  # fmt: skip
LENGTH_BINS = (("sixteenth", 1, 1), ("eighth", 2, 2), ("quarter", 3, 4), ("half", 5, 8),
               ("long", 9, 10_000))  # fmt: skip
BAR = 16  # frames in a 4/4 bar


def _voice_features(chorale: Chorale) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, voice in zip(VOICES, chorale.voices, strict=True):
        steps = [b.midi - a.midi for a, b in zip(voice, voice[1:], strict=False)]
        count = max(len(steps), 1)
        for label, low, high in STEP_BINS:
            out[f"{name} {label}s"] = sum(low <= abs(s) <= high for s in steps) / count
        turns = sum(a * b < 0 for a, b in zip(steps, steps[1:], strict=False) if abs(a) <= 2)
        onward = sum(a * b > 0 for a, b in zip(steps, steps[1:], strict=False) if abs(a) <= 2)
        out[f"{name} turns back after a step"] = turns / count
        out[f"{name} runs on after a step"] = onward / count
        notes = max(len(voice), 1)
        for label, low, high in LENGTH_BINS:
            out[f"{name} {label} notes"] = (
                sum(low <= n.end - n.start <= high for n in voice) / notes
            )
        out[f"{name} notes per bar"] = len(voice) * BAR / max(chorale.frames, 1)
    return out


def _voice_leading(chorale: Chorale) -> dict[str, float]:
    """Parallel fifths and octaves per chord change, and crossings per frame, counted as the
    review page's style report counts them (composer.style)."""
    grid = sounding(chorale)
    fifths, octaves, changes = parallels(grid)
    return {
        "parallel fifths": fifths / max(changes, 1),
        "parallel octaves": octaves / max(changes, 1),
        "voice crossings": crossing_frames(grid) / max(chorale.frames, 1),
    }


def _form(chorale: Chorale) -> dict[str, float]:
    frames = max(chorale.frames, 1)
    ends = {n.end for voice in chorale.voices for n in voice if n.fermata}
    silent = sum(chorale.frames - sum(n.end - n.start for n in voice) for voice in chorale.voices)
    bass = chorale.voices[3]
    last = bass[-1].midi % 12 if bass else -1
    return {
        "fermatas per bar": len(ends) * BAR / frames,
        "fermatas ending on a half bar": (sum(e % (BAR // 2) == 0 for e in ends) / len(ends))
        if ends
        else 0.0,
        # Whatever the excerpt's first beat: do its phrase ends keep to one half-bar grid?
        "fermatas on one half-bar grid": max(
            sum(e % (BAR // 2) == phase for e in ends) / len(ends) for phase in range(BAR // 2)
        )
        if ends
        else 0.0,
        "rests": silent / (4 * frames),
        "bass ends on the tonic": float(last in (0, 9)),  # C major or A minor, as normalised
    }


def features(chorale: Chorale) -> dict[str, float]:
    """The judge's view of one excerpt, by name."""
    return {**_voice_features(chorale), **_voice_leading(chorale), **_form(chorale)}


def matrix(chorales: list[Chorale]) -> tuple[np.ndarray, list[str]]:
    """Features of each excerpt as rows (shape: excerpts × features), and their names."""
    rows = [features(c) for c in chorales]
    names = sorted(rows[0])
    return np.array([[row[n] for n in names] for row in rows], dtype=float), names
