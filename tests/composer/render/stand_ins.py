"""Chorales for checking the rendering path: a few real ones, deterministic "generated" ones,
and a small hand-written score (``small_score``) whose every note the MIDI tests can name.

The leak test and ``benchmarks/render_leak.py`` render both kinds and compare the files. Until a
trained model ships, the generated kind is a stand-in: random-walk voices in the four vocal ranges,
phrases of two bars ending on a fermata chord, the odd rest and ties across barlines, built through
the same frame representation (composer.encoding) that decoded model samples go through. Swap in
real samples by passing their scores to the same functions.
"""

from __future__ import annotations

import random

from music21 import corpus, expressions, meter, note, stream, tie

from composer import paths
from composer.corpus import PreparedChorale, prepare_score
from composer.encoding import Chorale, Note, chorale_to_score, tokens_to_chorale

# Real chorales known to pass the corpus recipe (4/4, four vocal parts), lengths 144-256 frames.
REAL_IDS = (
    "bwv66.6", "bwv26.6", "bwv38.6", "bwv40.6", "bwv64.2", "bwv65.7", "bwv67.7",
    "bwv77.6", "bwv80.8", "bwv84.5", "bwv86.6", "bwv87.7", "bwv88.7",
)  # fmt: skip

# Where the random walks wander, S, A, T, B in MIDI pitches: textbook vocal ranges, narrower at
# the top than composer.encoding.VOICE_RANGES (the corpus's usual ranges, which bound harmonized
# voices). Kept as they are so the stand-ins stay the same pieces.
WALK_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))
C_MAJOR = {0, 2, 4, 5, 7, 9, 11}
PHRASE_FRAMES = 32  # two 4/4 bars
FERMATA_FRAMES = 4  # the phrase-final chord is a quarter note


def real_chorales(count: int, ids: tuple[str, ...] = REAL_IDS) -> list[stream.Score]:
    """The first ``count`` of ``ids`` through the corpus recipe (C major / A minor, quantised)."""
    scores = []
    for chorale_id in ids[:count]:
        result = prepare_score(chorale_id, corpus.parse(f"bach/{chorale_id}"))
        if not isinstance(result, PreparedChorale):
            raise ValueError(f"{chorale_id} is excluded by the corpus recipe: {result.reason}")
        scores.append(result.score)
    if len(scores) < count:
        raise ValueError(f"only {len(scores)} real chorales are listed, {count} asked for")
    return scores


def _voice(rng: random.Random, low: int, high: int, frames: int) -> tuple[Note, ...]:
    notes: list[Note] = []
    pitch = rng.randint(low + 4, high - 4)
    for phrase_start in range(0, frames, PHRASE_FRAMES):
        cadence = phrase_start + PHRASE_FRAMES - FERMATA_FRAMES
        at = phrase_start
        while at < cadence:
            length = min(rng.choice((2, 4, 4, 4, 8)), cadence - at)
            if at > 0 and rng.random() < 0.04:  # a short rest now and then
                at += length
                continue
            pitch = min(high, max(low, pitch + rng.randint(-4, 4)))
            while pitch % 12 not in C_MAJOR:
                pitch += 1 if pitch < high else -1
            notes.append(Note(at, at + length, pitch))
            at += length
        notes.append(Note(cadence, cadence + FERMATA_FRAMES, pitch, fermata=True))
    return tuple(notes)


def generated_stand_in(seed: int, phrases: int | None = None) -> stream.Score:
    """A deterministic fake "generated" chorale of 4-7 two-bar phrases (128-224 frames)."""
    rng = random.Random(seed)
    frames = PHRASE_FRAMES * (phrases if phrases is not None else rng.randint(4, 7))
    voices = tuple(_voice(rng, low, high, frames) for low, high in WALK_RANGES)
    return chorale_to_score(Chorale(voices, frames))


def model_samples(count: int, seed: int = 0, temperature: float = 0.8) -> list[stream.Score]:
    """Chorales composed by the shipped checkpoint: the real "generated" side of the leak check."""
    import torch

    from composer import checkpoint
    from composer.sample import compose

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # batch-of-a-few sampling is step-bound; more threads only contend
    try:
        model, vocabulary, _ = checkpoint.load(paths.DEFAULT_CHECKPOINT)
        pieces = compose(model, vocabulary, count, temperature=temperature, seed=seed)
    finally:
        torch.set_num_threads(threads)
    return [chorale_to_score(tokens_to_chorale(tokens)) for tokens in pieces]


def _part(notes: list[tuple[int | None, float, str | None]], fermata_at: set[int] = frozenset()):
    """A 4/4 part from (midi or None for a rest, quarter length, tie type) triples."""
    part = stream.Part()
    part.insert(0, meter.TimeSignature("4/4"))
    offset = 0.0
    for i, (midi, length, tie_type) in enumerate(notes):
        element = note.Rest() if midi is None else note.Note(midi)
        element.quarterLength = length
        if tie_type:
            element.tie = tie.Tie(tie_type)
        if i in fermata_at:
            element.expressions.append(expressions.Fermata())
        part.insert(offset, element)
        offset += length
    return part.makeMeasures()


def small_score(fermatas: bool = True) -> stream.Score:
    """Two bars: S ties C5 across the barline, A repeats E4, T rests, B ends on a fermata."""
    at = {3} if fermatas else set()
    score = stream.Score()
    score.insert(0, _part([(72, 4, "start"), (72, 2, "stop"), (74, 2, None)]))
    score.insert(0, _part([(64, 2, None), (64, 2, None), (65, 4, None)]))
    score.insert(0, _part([(55, 1, None), (None, 3, None), (57, 4, None)]))
    score.insert(0, _part([(48, 2, None), (43, 2, None), (41, 2, None), (48, 2, None)], at))
    return score
