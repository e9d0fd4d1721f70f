"""Voice-leading rules applied while decoding: no parallel or antiparallel fifths and octaves.

Two voices that both move from a perfect fifth (or octave, or unison; compounds included) to
another of the same kind, in the same or in contrary direction, break the rule Bach keeps
(music21's ``VoiceLeadingQuartet.parallelFifth`` / ``parallelOctave`` count both directions).
The network wrote 15-35 times Bach's rate of them, whatever the temperature, so sampling and
harmonization forbid them at the moment the second voice of the pair is chosen: the candidate
pitch is masked where it and a voice already known in the frame would form such a pair with the
previous frame. A voice that holds or repeats its note, or rests, never breaks the rule, so a
voice always keeps an allowed token.

Frames are compared with the frame before: where neither voice changed in between the previous
frame is the previous chord, and a change of any voice makes a new one, so this is the same count
as between consecutive distinct sonorities (composer.style).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

PERFECT = (0, 7)  # unison/octave and fifth, as semitones modulo the octave
RULES = {"parallel_fifths": "forbidden", "parallel_octaves": "forbidden", "antiparallel": True}
NO_RULES: dict = {}


def parallel_free(
    pitch: torch.Tensor,
    own_before: torch.Tensor,
    others_before: torch.Tensor,
    others_now: torch.Tensor,
) -> torch.Tensor:
    """[R, V] bool: candidate tokens that form no parallel perfect interval with another voice.

    ``pitch`` [V]: each token's MIDI pitch (-1 for rests and non-notes); ``own_before`` [R]: the
    chosen voice's pitch in the previous frame; ``others_before`` / ``others_now`` [R, K]: the
    other voices' pitches in the previous and the current frame (-1 where a voice rests or is
    not chosen yet, which exempts the pair).
    """
    before = (others_before - own_before[:, None]).abs() % 12  # [R, K]
    known = (others_before >= 0) & (others_now >= 0) & (own_before >= 0)[:, None]
    other_moves = others_now != others_before
    perfect = (before == PERFECT[0]) | (before == PERFECT[1])
    risky = known & other_moves & perfect  # [R, K]: pairs a moving candidate could spoil
    # [R, K, V]: the interval each candidate makes with each other voice now.
    after = (others_now[:, :, None] - pitch[None, None, :]).abs() % 12
    moves = (pitch[None, :] != own_before[:, None]) & (pitch >= 0)[None, :]  # [R, V]
    broken = risky[:, :, None] & (after == before[:, :, None]) & moves[:, None, :]
    return ~broken.any(dim=1)


def risky_pairs(
    own_before: int, others_before: Sequence[int], others_now: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """One row of :func:`parallel_free` in plain ints, for a sampler that keeps its state in
    Python: (other voice's pitch now, perfect interval class it made before) for each other voice
    that a moving candidate could meet in parallel. -1 (rest, not chosen yet) exempts a pair."""
    if own_before < 0:
        return ()
    pairs = []
    for before, now in zip(others_before, others_now, strict=True):
        if before >= 0 and now >= 0 and now != before:
            interval = abs(before - own_before) % 12
            if interval in PERFECT:
                pairs.append((now, interval))
    return tuple(pairs)


def breaking(
    pitch: torch.Tensor, own_before: int, pairs: Sequence[tuple[int, int]]
) -> torch.Tensor:
    """[V] bool: candidates (``pitch`` [V], -1 for non-notes) that would break the rule with one
    of :func:`risky_pairs`' ``pairs``: a moving note at the same interval class from that voice."""
    broken = torch.zeros_like(pitch, dtype=torch.bool)
    for now, interval in pairs:
        broken |= (now - pitch).abs() % 12 == interval
    return broken & (pitch != own_before) & (pitch >= 0)
