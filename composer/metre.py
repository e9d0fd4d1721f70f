"""Where the bar lines fall: each chorale's bar phase, drawing phases to sample with, and the
metrical counts of ``benchmarks/metre.py``.

A chorale's *phase* is frame 0's place in its bar, in sixteenths (0: the piece starts on a
downbeat; 12: after a quarter-note pickup in 4/4). ``python -m composer prepare`` reads it off
the score and commits it as ``composer/data/bar_phase.json``: of the 351 kept chorales 255 start
with a quarter-note pickup (12), 94 on a downbeat (0) and 2 with a half-note pickup (8). Frame f
then lies at (phase + f) mod 16 in its bar.
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Sequence

from composer.conditioning import BAR_FRAMES
from composer.encoding import DATA_DIR, Chorale, fermata_frames

BAR_PHASE_PATH = DATA_DIR / "bar_phase.json"
TRAIN_FRAMES_PATH = DATA_DIR / "train_frames.json"
HALF_BAR = BAR_FRAMES // 2
BEAT = BAR_FRAMES // 4


@functools.cache
def bar_phases() -> dict[str, int]:
    """Chorale id -> its bar phase, for every kept chorale (read once)."""
    if not BAR_PHASE_PATH.exists():
        raise FileNotFoundError(f"{BAR_PHASE_PATH} is missing: run `python -m composer prepare`")
    return json.loads(BAR_PHASE_PATH.read_text())


def phases_of(chorale_ids: Sequence[str]) -> list[int]:
    """The bar phases of these chorales, in their order."""
    phases = bar_phases()
    missing = [cid for cid in chorale_ids if cid not in phases]
    if missing:
        raise KeyError(f"{BAR_PHASE_PATH.name} has no phase for {missing[:5]}: run prepare again")
    return [phases[cid] for cid in chorale_ids]


@functools.cache
def _training_pieces() -> tuple[tuple[int, int], ...]:
    """(frames, phase) of each training chorale, sorted by frames then phase."""
    frames = json.loads(TRAIN_FRAMES_PATH.read_text())
    return tuple(sorted(zip(frames.values(), phases_of(list(frames)), strict=True)))


def draw_phases(n: int, seed: int, min_frames: int, max_frames: int) -> list[int]:
    """``n`` bar phases drawn with ``seed`` from Bach's training chorales of ``min_frames``-
    ``max_frames`` frames.

    The draw picks the same chorales as ``composer.sample.draw_lengths`` with the same arguments
    (the same random indices into the same chorales, sorted by length): each piece gets the length
    *and* the phase of one chorale of Bach's, so a pickup goes with a length that closes its bar.
    """
    usable = [phase for frames, phase in _training_pieces() if min_frames <= frames <= max_frames]
    if not usable:
        raise ValueError(f"no training chorale is {min_frames}-{max_frames} frames long")
    return random.Random(seed).choices(usable, k=n)


# --- counts for benchmarks/metre.py ---------------------------------------------------------------


def ties_over_bar_lines(chorale: Chorale, phase: int) -> tuple[int, int]:
    """(notes held over a bar line, notes): a note sounding in frames start..end-1 crosses one
    when some frame after its first begins a bar, (phase + frame) mod 16 == 0."""
    notes = [n for voice in chorale.voices for n in voice]
    held = sum(any((phase + f) % BAR_FRAMES == 0 for f in range(n.start + 1, n.end)) for n in notes)
    return held, len(notes)


def fermata_ends(chorale: Chorale) -> list[int]:
    """The frame after each run of frames under a fermata: where each phrase ends."""
    under = fermata_frames(chorale)
    return sorted(f + 1 for f in under if f + 1 not in under)


def fermata_starts(chorale: Chorale) -> list[int]:
    """The first frame of each run of frames under a fermata."""
    under = fermata_frames(chorale)
    return sorted(f for f in under if f - 1 not in under)


def fermata_grid(chorale: Chorale, phase: int) -> tuple[int, int, int]:
    """(fermata ends on the piece's most common half-bar grid, fermatas that start on a strong
    beat (1 or 3) given ``phase``, fermatas). The first needs no phase: it says whether phrases
    end in step. Bach's fermata chords start on beat 1 or 3 and usually last a beat, so their
    ends fall on beat 2 or 4, where the next phrase's pickup starts."""
    ends, starts = fermata_ends(chorale), fermata_starts(chorale)
    if not ends:
        return 0, 0, 0
    majority = Counter(e % HALF_BAR for e in ends).most_common(1)[0][1]
    strong = sum((phase + s) % HALF_BAR == 0 for s in starts)
    return majority, strong, len(ends)


def phrase_lengths(chorale: Chorale) -> list[int]:
    """Frames from one phrase end (fermata end) to the next, from frame 0; a tail of a beat or
    more after the last fermata counts as a phrase of its own."""
    bounds = [0, *(e for e in fermata_ends(chorale) if e > 0)]
    if chorale.frames - bounds[-1] >= BEAT:
        bounds.append(chorale.frames)
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def inferred_phase(chorale: Chorale) -> int:
    """The beat-aligned phase (0, 4, 8 or 12) that puts the most note length on downbeats: where
    a piece's bar lines seem to be when nobody said (a model that was not told its metre)."""

    def weight(phase: int) -> int:
        return sum(
            n.end - n.start
            for voice in chorale.voices
            for n in voice
            if (phase + n.start) % BAR_FRAMES == 0
        )

    return max(range(0, BAR_FRAMES, BEAT), key=lambda p: (weight(p), -p))
