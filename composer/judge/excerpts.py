"""Excerpts for the judge, cut the way the quiz cuts free pairs: the network's piece moved to
C major / A minor and heard from its beginning to right after one of its own fermatas; Bach's
from a phrase start of a held-out chorale, likewise ending after a fermata when one is near."""

from __future__ import annotations

import random

from composer.encoding import Chorale, tokens_to_chorale
from composer.pairing import normalise_key, phrase_starts, window_chorale
from composer.render.excerpt import excerpt


def network_excerpts(pieces: list[list[str]], frames: int) -> list[Chorale]:
    return [excerpt(normalise_key(tokens_to_chorale(t))[0], frames)[0] for t in pieces]


def bach_excerpts(chorales: dict[str, list[str]], frames: int, seed: int) -> list[Chorale]:
    """One excerpt per chorale, from a phrase start drawn with ``seed`` that leaves room for
    ``frames`` (the beginning when none does)."""
    rng = random.Random(seed)
    out = []
    for source in sorted(chorales):
        chorale = tokens_to_chorale(chorales[source])
        starts = [s for s in phrase_starts(chorale) if s + frames <= chorale.frames] or [0]
        start = rng.choice(starts)
        out.append(excerpt(window_chorale(chorale, start, chorale.frames), frames)[0])
    return out


def harmonized_excerpts(
    model,
    vocabulary,
    bach: list[Chorale],
    mask: str,
    method: str = "beam",
    voice_leading: bool = True,
) -> list[Chorale]:
    """Each Bach excerpt with the ``mask`` voices re-written by ``model`` (a harmonizer or a
    language model), as a harmonization question pairs them: the same window on both sides."""
    from composer.encoding import chorale_to_tokens
    from composer.harmonization.masks import mask_tokens
    from composer.harmonization.search import harmonize

    out = []
    for chorale in bach:
        masked = mask_tokens(chorale_to_tokens(chorale), mask)
        result = harmonize(model, vocabulary, masked, method, voice_leading=voice_leading)
        out.append(tokens_to_chorale(result.tokens))
    return out
