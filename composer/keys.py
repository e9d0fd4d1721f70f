"""The key of a chorale, found as music21's default key analysis finds it, from the frames alone.

music21's ``Stream.analyze("key")`` is the Krumhansl-Schmuckler method with Aarden-Essen
weights: a pitch-class histogram (each note weighted by its length in quarters) is correlated
(Pearson) with the major and the minor profile rotated onto each of the twelve tonics, and the
best correlation wins. The corpus was moved to C major / A minor by it (composer.corpus), and a
free piece is moved the same way (composer.pairing), so the answer must be music21's exactly.

Building a music21 stream of a chorale's notes only to read twelve sums back costs about 30 ms a
chorale; a generation batch asks for dozens of keys before its first piece can be rendered. Here
the same arithmetic runs on the frames, in the same order of floating-point operations as
music21 10.5's ``KeyWeightKeyAnalysis`` (``_getPitchClassDistribution``, ``_getDifference``,
``process``), so that the tonic, the mode and the correlation are the same numbers; a test checks
them against music21 on the corpus and on keys and pieces it was not prepared from.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.encoding import FRAMES_PER_QUARTER, Chorale

# music21.analysis.discrete.AardenEssen.getWeights: the profile of a key on its tonic, per
# semitone above it.
WEIGHTS = {
    "major": (17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587,
              0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122),
    "minor": (18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362,
              0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623),
}  # fmt: skip


class NoNotes(ValueError):
    """A chorale with no note has no key."""


@dataclass(frozen=True)
class FoundKey:
    tonic: int  # pitch class of the tonic, 0 (C) to 11
    mode: str  # "major" or "minor"
    correlation: float  # Pearson's r of the histogram with the key's profile

    @property
    def name(self) -> str:
        """As music21 writes the key it finds, e.g. "E- major", "f# minor"."""
        from music21 import key, pitch
        from music21.analysis.discrete import AardenEssen

        tonic = pitch.Pitch(self.tonic)
        valid = AardenEssen.keysValidMajor if self.mode == "major" else AardenEssen.keysValidMinor
        if tonic.name not in valid:  # music21's _bestKeyEnharmonic: G# major is A- major
            tonic.getEnharmonic(inPlace=True)
        return str(key.Key(tonic.name, self.mode))


def pitch_class_histogram(chorale: Chorale) -> list[float]:
    """Quarters sounded per pitch class (music21's ``_getPitchClassDistribution``). Sums of
    sixteenths are whole numbers; divided by four they are exact floats, so the order of
    summation music21 happens to use cannot matter."""
    frames = [0] * 12
    for voice in chorale.voices:
        for n in voice:
            frames[n.midi % 12] += n.end - n.start
    return [count / FRAMES_PER_QUARTER if count else 0 for count in frames]


def correlations(histogram: list[float], mode: str) -> list[float]:
    """Pearson's r of ``histogram`` with ``mode``'s profile on each tonic 0..11, summed in
    music21's order (``_getDifference``)."""
    weights = WEIGHTS[mode]
    profile_mean = sum(weights) / len(weights)
    histogram_mean = sum(histogram) / len(histogram)
    result = [0.0] * 12
    for tonic in range(12):
        top = bottom_right = bottom_left = 0.0
        for j in range(12):
            weight = weights[(j - tonic) % 12] - profile_mean
            count = histogram[j] - histogram_mean
            top += weight * count
            bottom_right += weight**2
            bottom_left += count**2
        if bottom_right == 0 or bottom_left == 0:
            result[tonic] = 0.0
        else:
            result[tonic] = float(top / ((bottom_right * bottom_left) ** 0.5))
    return result


def key_of(chorale: Chorale) -> FoundKey:
    """The key music21's ``analyze("key")`` finds over the chorale's notes (lengths as weights).

    music21 sorts (correlation, tonic pitch, mode) and takes the largest: on a tie the higher
    tonic, then minor, wins; the same order here."""
    if not any(chorale.voices):
        raise NoNotes("a chorale with no notes has no key")
    histogram = pitch_class_histogram(chorale)
    candidates = [
        (r, tonic, mode)
        for mode in ("major", "minor")
        for tonic, r in enumerate(correlations(histogram, mode))
    ]
    r, tonic, mode = max(candidates)
    return FoundKey(tonic, mode, r)
