"""Cut chorales to a number of sixteenth frames, preferably right after a fermata.

The survey pairs two clips and must not let their lengths give the source away (BachBot's free
compositions were systematically shorter than the Bach they were paired with). So clips are cut in
frames, the unit of the token encoding: at a fixed tempo, equal frames give equal durations.

Cutting works on frames (:class:`composer.encoding.Chorale`: notes as frame spans, ties already
merged), which is also what is rendered; a score is drawn from the cut frames only where one is
written, so a real and a generated excerpt come out notated the same way. A note that straddles
the cut is shortened to end at it.
"""

from __future__ import annotations

from dataclasses import replace

from music21 import key, stream

from composer.encoding import (
    FRAMES_PER_QUARTER,
    Chorale,
    EncodingError,
    score_to_chorale,
)
from composer.pairing import phrase_ends as fermata_ends

# An excerpt ends at a fermata only if that keeps at least this share of the frames asked for;
# otherwise it is cut exactly at the limit (a phrase end at frame 8 of 64 would waste the clip).
MIN_FERMATA_FRACTION = 0.5


def read_chorale(score: stream.Score) -> Chorale:
    """``score`` as frames, trailing rests counted (score_to_chorale stops at the last note)."""
    chorale = score_to_chorale(score)
    length = round(float(score.highestTime) * FRAMES_PER_QUARTER)
    return replace(chorale, frames=max(chorale.frames, length))


def key_signature_of(score: stream.Score) -> int:
    """Sharps (negative: flats) of the first key signature in ``score``; 0 when it has none."""
    found = score.recurse().getElementsByClass(key.KeySignature).first()
    return found.sharps if found is not None else 0


def cut_chorale(chorale: Chorale, frames: int) -> Chorale:
    """The first ``frames`` frames of ``chorale``; notes that straddle the cut end at it."""
    if frames < 1:
        raise EncodingError(f"cannot cut a chorale to {frames} frames")
    voices = tuple(
        tuple(replace(n, end=min(n.end, frames)) for n in voice if n.start < frames)
        for voice in chorale.voices
    )
    return Chorale(voices, min(frames, chorale.frames))


def excerpt_length(chorale: Chorale, frames: int, prefer_fermata: bool = True) -> int:
    """How many frames an excerpt of at most ``frames`` should keep (see :func:`excerpt`)."""
    if frames >= chorale.frames:
        return chorale.frames
    if prefer_fermata:
        ends = [e for e in fermata_ends(chorale) if MIN_FERMATA_FRACTION * frames <= e <= frames]
        if ends:
            return ends[-1]
    return frames


def excerpt(chorale: Chorale, frames: int, prefer_fermata: bool = True) -> tuple[Chorale, int]:
    """Cut ``chorale`` to at most ``frames`` frames; return the excerpt and the frames it keeps.

    With ``prefer_fermata`` the excerpt ends right after the last fermata chord at or before the
    limit, when that keeps at least ``MIN_FERMATA_FRACTION`` of the limit; otherwise it is cut at
    the limit exactly. A chorale no longer than the limit is kept whole. Cut the other clip of a
    pair with ``cut_chorale(other, kept)`` to give both the same length.
    """
    if frames < 1:
        raise EncodingError(f"cannot cut a chorale to {frames} frames")
    kept = excerpt_length(chorale, frames, prefer_fermata)
    return cut_chorale(chorale, kept), kept


def excerpt_pair(first: Chorale, second: Chorale, frames: int) -> tuple[Chorale, Chorale, int]:
    """Cut two chorales from their beginnings to the same number of frames, at most ``frames``:
    the longest length at which *both* end right after a fermata, else the plain limit (then
    both stop mid-phrase alike; never one on a cadence and the other not). The survey's pairs
    are chosen by composer.pairing, which also looks for a Bach window that fits."""
    if frames < 1:
        raise EncodingError(f"cannot cut a chorale to {frames} frames")
    a, b = first, second
    limit = min(frames, a.frames, b.frames)
    floor = MIN_FERMATA_FRACTION * limit
    common = sorted(set(fermata_ends(a)) & set(fermata_ends(b)))
    common = [e for e in common if floor <= e <= limit]
    kept = common[-1] if common else limit
    return cut_chorale(a, kept), cut_chorale(b, kept), kept
