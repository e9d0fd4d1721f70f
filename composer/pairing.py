"""Pairs of excerpts that differ in nothing but the music (issue 16).

A listening question plays a Bach excerpt beside the network's; any difference other than the
music hands a listener (or a script) the answer. So both sides of a pair are cut and placed alike:

* **Phrases.** Both clips start where a phrase starts (the piece's beginning, or right after a
  fermata) and end right after a fermata chord. In a free pair the network's piece is heard from
  its beginning, whole or cut right after one of its own fermatas (:func:`piece_cuts`), and its
  Bach partner is a window of a real chorale with exactly as many frames (:func:`bach_windows`).
  A harmonization keeps its own source: both sides are the same window of it
  (:func:`harmonization_windows`), ending right after a fermata where one lies in range.
* **Keys.** The network's piece is moved to C major or A minor by the corpus's own key analysis
  (:func:`normalise_key`, as :mod:`composer.corpus` moves Bach's), and is paired with a chorale
  of the same mode. Then both clips may be moved together to one key drawn at random
  (:func:`common_shifts`) within which every voice stays in its usual range, so that neither a
  key nor an always-C-major Bach gives the side away.

A window is named by its chorale and its frames (:class:`Window`); two windows of one chorale
that share a frame are the same Bach as far as a listener is concerned (:meth:`Window.overlaps`).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from math import ceil

from composer.corpus import transposition_to_c_or_a
from composer.encoding import (
    VOICE_RANGES,
    VOICES,
    Chorale,
    fermata_frames,
    normalise_fermatas,
    transpose_chorale,
)
from composer.keys import key_of

# The keys a pair may be moved to: at most a tritone either way, as the corpus itself was moved.
SHIFTS = range(-5, 7)
# An excerpt keeps at least this share of the frames asked for: a phrase end at frame 8 of 64
# would waste the clip.
MIN_FRACTION = 0.5
# Sharps (negative: flats) of the major key on each pitch class; a minor key has its relative
# major's, three semitones up (so A minor moved by t has C major moved by t's signature).
_MAJOR_SHARPS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 5: -1, 10: -2, 3: -3, 8: -4, 1: -5}


@dataclass(frozen=True, order=True)
class Window:
    """Frames ``start .. end-1`` of chorale ``source``."""

    source: str
    start: int
    end: int

    @property
    def frames(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Window) -> bool:
        return self.source == other.source and self.start < other.end and other.start < self.end


def phrase_ends(chorale: Chorale) -> list[int]:
    """Frames right after each run of fermata frames, ascending: where a phrase ends."""
    under = fermata_frames(chorale)
    return sorted(f + 1 for f in under if f + 1 not in under)


def phrase_starts(chorale: Chorale) -> list[int]:
    """The beginning and every frame right after a fermata, inside the chorale."""
    return [0] + [end for end in phrase_ends(chorale) if end < chorale.frames]


def window_chorale(chorale: Chorale, start: int, end: int) -> Chorale:
    """Frames ``start .. end-1`` as a chorale of their own; notes that straddle an edge are cut
    at it (a note held into the window is heard from the window's first frame)."""
    if not 0 <= start < end <= chorale.frames:
        raise ValueError(f"window {start}..{end} lies outside a {chorale.frames}-frame chorale")
    voices = tuple(
        tuple(
            replace(n, start=max(n.start, start) - start, end=min(n.end, end) - start)
            for n in voice
            if n.start < end and n.end > start
        )
        for voice in chorale.voices
    )
    return normalise_fermatas(Chorale(voices, end - start))


def begins_silent(chorale: Chorale) -> bool:
    """Whether all four voices rest in the first frame (its clip would open with silence)."""
    return not any(n.start == 0 for voice in chorale.voices for n in voice)


def ends_on_fermata(chorale: Chorale) -> bool:
    """Whether the last frame is under a fermata: the clip stops on a cadence."""
    return chorale.frames - 1 in fermata_frames(chorale)


# --- keys ----------------------------------------------------------------------------------------


def mode_of(chorale: Chorale) -> str:
    """ "major" or "minor", by the corpus's key analysis of the whole chorale."""
    return key_of(chorale).mode


def normalise_key(chorale: Chorale) -> tuple[Chorale, int, str]:
    """``chorale`` moved to C major or A minor as the corpus moves Bach's: (moved, semitones,
    mode). A tritone away, up and down are both a tritone: the way that leaves fewer notes out
    of range (down on a tie)."""
    found = key_of(chorale)
    shift = transposition_to_c_or_a(found.tonic, found.mode)
    if abs(shift) == 6:
        shift = min((-6, 6), key=lambda s: _notes_out_of_range(chorale, s))
    return transpose_chorale(chorale, shift), shift, found.mode


def _notes_out_of_range(chorale: Chorale, shift: int) -> int:
    return sum(
        not VOICE_RANGES[name][0] <= n.midi + shift <= VOICE_RANGES[name][1]
        for name, voice in zip(VOICES, chorale.voices, strict=True)
        for n in voice
    )


def key_name(mode: str, shift: int) -> str:
    """The key C major / A minor moved by ``shift`` semitones, e.g. "D major", "F# minor"."""
    names = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
    tonic = 0 if mode == "major" else 9
    return f"{names[(tonic + shift) % 12]} {mode}"


def key_signature(shift: int) -> int:
    """Sharps (negative: flats) of C major or A minor moved by ``shift`` semitones."""
    return _MAJOR_SHARPS[shift % 12]


def in_range(chorale: Chorale, shift: int = 0) -> bool:
    """Whether every note, moved by ``shift``, lies in its voice's usual range."""
    return _notes_out_of_range(chorale, shift) == 0


def common_shifts(chorales: Iterable[Chorale]) -> list[int]:
    """Shifts that keep every voice of every chorale in its usual range, always with 0 (where
    the pieces already are, whatever their ranges)."""
    chorales = list(chorales)
    return [s for s in SHIFTS if s == 0 or all(in_range(c, s) for c in chorales)]


def draw_shift(chorales: Iterable[Chorale], rng: random.Random) -> int:
    """One key for a whole pair, drawn uniformly from :func:`common_shifts`."""
    return rng.choice(common_shifts(chorales))


# --- cutting -------------------------------------------------------------------------------------


def piece_cuts(chorale: Chorale, max_frames: int) -> list[int]:
    """Where the network's piece may be cut, longest first: right after one of its own fermatas,
    keeping MIN_FRACTION to all of ``max_frames`` (its whole length, if it ends on a fermata)."""
    low = ceil(MIN_FRACTION * max_frames)
    return sorted((e for e in phrase_ends(chorale) if low <= e <= max_frames), reverse=True)


def bach_windows(chorale: Chorale, source: str, frames: int) -> list[Window]:
    """Windows of exactly ``frames`` frames from a phrase start to right after a fermata."""
    ends = set(phrase_ends(chorale))
    return [
        Window(source, start, start + frames)
        for start in phrase_starts(chorale)
        if start + frames in ends and not begins_silent(window_chorale(chorale, start, start + 1))
    ]


def harmonization_windows(chorale: Chorale, source: str, max_frames: int) -> list[Window]:
    """Per phrase start, the window a harmonization question uses: up to right after the last
    fermata that keeps MIN_FRACTION to all of ``max_frames``, else exactly ``max_frames`` (then
    both sides stop at the same frame mid-phrase); none that begins with silence."""
    ends = phrase_ends(chorale)
    windows = []
    for start in phrase_starts(chorale):
        low, high = start + ceil(MIN_FRACTION * max_frames), start + max_frames
        in_range_ends = [e for e in ends if low <= e <= high]
        end = in_range_ends[-1] if in_range_ends else high
        if end <= chorale.frames and not begins_silent(window_chorale(chorale, start, start + 1)):
            windows.append(Window(source, start, end))
    return windows


def is_free(window: Window, used: Sequence[Window]) -> bool:
    return not any(window.overlaps(other) for other in used)


# --- free pairs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreePair:
    """A network piece cut to ``frames`` from its beginning, and its Bach ``window``."""

    frames: int
    window: Window


class BachWindows:
    """Every corpus chorale's phrase windows, by length, with each chorale's mode found on
    first need (a key analysis takes about 20 ms; a pairing looks at a few chorales)."""

    def __init__(self, chorales: dict[str, Chorale]) -> None:
        self.chorales = chorales
        self._by_length: dict[int, list[Window]] = {}
        self._audible: dict[int, list[Window]] = {}
        for source in sorted(chorales):
            for start in phrase_starts(chorales[source]):
                for end in phrase_ends(chorales[source]):
                    if end > start:
                        self._by_length.setdefault(end - start, []).append(
                            Window(source, start, end)
                        )
        self.mode: Callable[[str], str] = functools.cache(
            lambda source: mode_of(self.chorales[source])
        )

    def of_length(self, frames: int) -> list[Window]:
        """The windows of ``frames`` frames that do not open with silence (kept: a batch asks
        for each length many times, and a worker keeps the windows between batches)."""
        if frames not in self._audible:
            self._audible[frames] = [
                w
                for w in self._by_length.get(frames, [])
                if not begins_silent(window_chorale(self.chorales[w.source], w.start, w.start + 1))
            ]
        return self._audible[frames]

    def has_partner(self, piece: Chorale, mode: str, max_frames: int) -> bool:
        """Whether any window of the corpus (used or not) could face ``piece``."""
        return any(
            self.mode(window.source) == mode
            for frames in piece_cuts(piece, max_frames)
            for window in self.of_length(frames)
        )

    def pair(
        self, piece: Chorale, mode: str, max_frames: int, used: Sequence[Window], rng: random.Random
    ) -> FreePair | None:
        """A Bach window for ``piece`` (already in C major / A minor, of ``mode``): the longest
        cut of the piece for which an unused window of the same length and mode exists, the
        window drawn at random among them. None when there is none."""
        for frames in piece_cuts(piece, max_frames):
            candidates = [w for w in self.of_length(frames) if is_free(w, used)]
            rng.shuffle(candidates)
            for window in candidates:
                if self.mode(window.source) == mode:
                    return FreePair(frames, window)
        return None
