"""A per-chorale style report for reviewing generated samples, set against Bach's own rates.

Measures (per chorale, from its tokens):

* ``out_of_range``: share of notes outside their voice's usual range (``VOICE_RANGES``);
* ``voice_crossings``: share of frames where a voice sounds below the voice under it;
* ``parallel_fifths`` / ``parallel_octaves``: per 100 chord changes, pairs of voices that move in
  the same direction from a perfect fifth (or octave/unison) to another one;
* ``pitch_class_distance``: total variation distance (0 = same, 1 = disjoint) between the
  chorale's pitch-class histogram (frames sounded) and the whole Bach corpus's.

:func:`corpus_baseline` gives the same measures averaged over the real chorales (with their 10th
and 90th percentiles), so a reviewer reads "3.1 fifths per 100 changes against Bach's 0.4".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

# Usual range of each voice, MIDI inclusive (the harmonization search keeps filled voices in it).
from composer.encoding import VOICE_RANGES, Chorale, tokens_to_chorale
from composer.voices import VOICES

MEASURES = (
    "out_of_range",
    "voice_crossings",
    "parallel_fifths",
    "parallel_octaves",
    "pitch_class_distance",
)


def sounding(chorale: Chorale) -> list[list[int | None]]:
    """[frame][voice] -> MIDI pitch sounding, or None while the voice rests."""
    grid: list[list[int | None]] = [[None] * 4 for _ in range(chorale.frames)]
    for v, voice in enumerate(chorale.voices):
        for n in voice:
            for f in range(n.start, n.end):
                grid[f][v] = n.midi
    return grid


def pitch_class_counts(chorale: Chorale) -> list[float]:
    """Frames sounded per pitch class, C first."""
    counts = [0.0] * 12
    for voice in chorale.voices:
        for n in voice:
            counts[n.midi % 12] += n.end - n.start
    return counts


def _normalised(counts: Sequence[float]) -> list[float]:
    total = sum(counts) or 1.0
    return [c / total for c in counts]


def pitch_class_histogram(chorale: Chorale) -> list[float]:
    return _normalised(pitch_class_counts(chorale))


def parallels(grid: list[list[int | None]]) -> tuple[int, int, int]:
    """(fifths, octaves, chord changes) between consecutive distinct sonorities."""
    fifths = octaves = changes = 0
    previous = None
    for chord in grid:
        if previous is not None and chord != previous:
            changes += 1
            for upper in range(4):
                for lower in range(upper + 1, 4):
                    a0, b0, a1, b1 = previous[upper], previous[lower], chord[upper], chord[lower]
                    if None in (a0, b0, a1, b1) or a0 == a1 or b0 == b1:
                        continue
                    if (a1 - a0 > 0) != (b1 - b0 > 0):
                        continue  # contrary motion is fine
                    before, after = (a0 - b0) % 12, (a1 - b1) % 12
                    if before == after == 7:
                        fifths += 1
                    elif before == after == 0:
                        octaves += 1
        previous = chord
    return fifths, octaves, changes


def crossing_frames(grid: list[list[int | None]]) -> int:
    """Frames where a voice sounds below the voice under it."""
    return sum(
        1
        for chord in grid
        if any(
            chord[v] is not None and chord[v + 1] is not None and chord[v] < chord[v + 1]
            for v in range(3)
        )
    )


def measure(chorale: Chorale, reference_histogram: Sequence[float]) -> dict[str, float]:
    grid = sounding(chorale)
    notes = [(v, n) for v, voice in enumerate(chorale.voices) for n in voice]
    outside = sum(
        1
        for v, n in notes
        if not VOICE_RANGES[VOICES[v]][0] <= n.midi <= VOICE_RANGES[VOICES[v]][1]
    )
    fifths, octaves, changes = parallels(grid)
    histogram = pitch_class_histogram(chorale)
    return {
        "out_of_range": outside / max(len(notes), 1),
        "voice_crossings": crossing_frames(grid) / max(chorale.frames, 1),
        "parallel_fifths": 100 * fifths / max(changes, 1),
        "parallel_octaves": 100 * octaves / max(changes, 1),
        "pitch_class_distance": 0.5
        * sum(abs(a - b) for a, b in zip(histogram, reference_histogram, strict=True)),
    }


@cache
def corpus_baseline(tokens_path: Path | None = None) -> dict:
    """Bach's pitch-class histogram and each measure's mean, 10th and 90th percentile."""
    from composer.prepare import load_tokens

    tokens = load_tokens() if tokens_path is None else json.loads(Path(tokens_path).read_text())
    chorales = [tokens_to_chorale(t) for t in tokens.values()]
    per_chorale_counts = [pitch_class_counts(c) for c in chorales]
    reference = _normalised([sum(column) for column in zip(*per_chorale_counts, strict=True)])
    per_chorale = [measure(c, reference) for c in chorales]
    summary = {}
    for name in MEASURES:
        values = sorted(m[name] for m in per_chorale)
        summary[name] = {
            "mean": sum(values) / len(values),
            "p10": values[len(values) // 10],
            "p90": values[(9 * len(values)) // 10],
        }
    return {"pitch_class_histogram": reference, "measures": summary, "chorales": len(chorales)}


def style_report(tokens: Sequence[str], baseline: dict | None = None) -> dict:
    """``{measure: {"value": x, "bach_mean": m, "bach_p10": lo, "bach_p90": hi, "unusual": bool}}``.

    ``unusual`` flags a value beyond Bach's 90th percentile (or, for the distance, beyond it too).
    """
    baseline = baseline or corpus_baseline()
    values = measure(tokens_to_chorale(tokens), baseline["pitch_class_histogram"])
    report = {}
    for name, value in values.items():
        bach = baseline["measures"][name]
        report[name] = {
            "value": round(value, 4),
            "bach_mean": round(bach["mean"], 4),
            "bach_p10": round(bach["p10"], 4),
            "bach_p90": round(bach["p90"], 4),
            "unusual": value > bach["p90"],
        }
    return report
