"""Voice leading in decoding: no parallel or antiparallel fifths and octaves, when asked (the
default), in free sampling and in harmonization; and the rule itself, case by case."""

from __future__ import annotations

import pytest
import torch

from composer.decoding import Decoding
from composer.encoding import tokens_to_chorale
from composer.harmonization.masks import mask_tokens
from composer.harmonization.search import harmonize
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens
from composer.style import sounding
from composer.vocabulary import load_vocabulary
from composer.voice_leading import parallel_free

VOCABULARY = load_vocabulary()
PITCHES = torch.arange(40, 90)  # a vocabulary of plain MIDI pitches for the rule's own cases


def random_model() -> ChoraleLSTM:
    torch.manual_seed(0)
    return ChoraleLSTM(ModelConfig(len(VOCABULARY), 8, 16, 1)).eval()


def broken_pairs(tokens: list[str], voices: set[int] | None = None) -> list[tuple]:
    """(frame, upper, lower) wherever two moving voices keep a perfect fifth or octave (either
    direction); ``voices``: only pairs with at least one of these voices."""
    found = []
    grid = sounding(tokens_to_chorale(tokens))
    for f in range(1, len(grid)):
        before, now = grid[f - 1], grid[f]
        for u in range(4):
            for lo in range(u + 1, 4):
                if voices is not None and not {u, lo} & voices:
                    continue
                pitches = (before[u], now[u], before[lo], now[lo])
                if None in pitches or before[u] == now[u] or before[lo] == now[lo]:
                    continue
                first = abs(before[u] - before[lo]) % 12
                if first in (0, 7) and abs(now[u] - now[lo]) % 12 == first:
                    found.append((f, u, lo))
    return found


def allowed(own_before: int, other_before: int, other_now: int) -> set[int]:
    mask = parallel_free(
        PITCHES,
        torch.tensor([own_before]),
        torch.tensor([[other_before]]),
        torch.tensor([[other_now]]),
    )[0]
    return {int(p) for p in PITCHES[mask]}


def test_the_rule_forbids_parallel_and_antiparallel_perfect_intervals_only():
    # The soprano went G4 -> A4 (67 -> 69); the alto was on C4 (60), a fifth below.
    free = allowed(own_before=60, other_before=67, other_now=69)
    assert 62 not in free  # D4: parallel fifth
    assert 50 not in free  # D3: antiparallel fifth (a twelfth below)
    assert 60 in free  # C4 held or repeated: the alto does not move
    assert 65 in free and 66 in free  # F4 (third), F#4 (tritone below): not perfect
    # From an octave: A3 -> B3 under A4 -> B4 is forbidden, B2 too; G3 is fine.
    octave = allowed(own_before=57, other_before=69, other_now=71)
    assert {59, 47} <= set(PITCHES.tolist()) - octave and 55 in octave
    # A third before: nothing the voice can do makes a parallel.
    assert allowed(own_before=64, other_before=67, other_now=69) == set(PITCHES.tolist())
    # A rest on either side exempts the pair; so does a voice that holds.
    assert allowed(own_before=-1, other_before=67, other_now=69) == set(PITCHES.tolist())
    assert allowed(own_before=60, other_before=67, other_now=-1) == set(PITCHES.tolist())
    assert allowed(own_before=60, other_before=67, other_now=67) == set(PITCHES.tolist())


def test_sampling_keeps_the_rule_by_default_and_breaks_it_without():
    options = {"temperature": 1.0, "seed": 3, "max_frames": 60, "min_frames": 40}
    model = random_model()
    ruled = sample_tokens(model, VOCABULARY, 6, **options)
    loose = sample_tokens(model, VOCABULARY, 6, decoding=Decoding(voice_leading=False), **options)
    assert all(not broken_pairs(t) for t in ruled)
    assert sum(len(broken_pairs(t)) for t in loose) > 0  # the random model makes them freely


@pytest.mark.parametrize("mask", ["B", "ATB"])
def test_harmonization_keeps_the_rule_for_the_voices_it_writes(chorales, mask):
    masked = mask_tokens(chorales[0], mask)
    written = {"SATB".index(v) for v in mask}
    ruled = harmonize(random_model(), VOCABULARY, masked, "greedy")
    loose = harmonize(random_model(), VOCABULARY, masked, "greedy", voice_leading=False)
    assert not broken_pairs(ruled.tokens, written)
    assert broken_pairs(loose.tokens, written)


def test_settings_are_checked_and_recorded():
    with pytest.raises(ValueError, match="top_p"):
        Decoding(top_p=0)
    with pytest.raises(ValueError, match="hold temperature"):
        Decoding(hold_temperature=-1)
    record = Decoding(top_p=0.9).record(0.8)
    assert record["temperature"] == 0.8 and record["top_p"] == 0.9
    assert record["rules"]["parallel_fifths"] == "forbidden"
    assert Decoding(voice_leading=False).record(1.0)["rules"] == {}
