"""Drawing a token: nucleus (top-p), a hold temperature apart from the note's, END at the
model's own rate; the defaults sample as one softmax at one temperature."""

from __future__ import annotations

import math

import torch

from composer.decoding import Decoding, _nucleus, _race, _tempered
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens
from composer.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()


def random_model() -> ChoraleLSTM:
    torch.manual_seed(0)
    return ChoraleLSTM(ModelConfig(len(VOCABULARY), 8, 16, 1)).eval()


def test_nucleus_keeps_the_fewest_likeliest_tokens_that_reach_top_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    kept = _nucleus(probs.log(), 0.75).exp()[0]
    assert torch.allclose(kept, torch.tensor([0.625, 0.375, 0.0, 0.0]))
    # The likeliest token always stays, however small top_p.
    assert _nucleus(probs.log(), 0.01).exp()[0].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_the_hold_temperature_sets_holding_apart_from_which_note():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    tied = torch.tensor([True, False, False, False])  # token 0 holds the voice's note
    same = _tempered(logits, 0.8, 0.8, tied)
    assert torch.allclose(same, torch.log_softmax(logits / 0.8, dim=-1))
    mixed = _tempered(logits, 0.5, 2.0, tied).exp()[0]
    assert math.isclose(float(mixed.sum()), 1.0, rel_tol=1e-6)
    hold = float(torch.softmax(logits / 2.0, dim=-1)[0, 0])
    assert math.isclose(float(mixed[0]), hold, rel_tol=1e-5)
    # Among new notes, the note temperature (0.5) decides.
    attack = torch.softmax(logits[0, 1:] / 0.5, dim=-1) * (1 - hold)
    assert torch.allclose(mixed[1:], attack, atol=1e-6)


def test_defaults_sample_as_before_and_the_options_change_the_pieces():
    model = random_model()
    options = {"temperature": 1.0, "seed": 4, "max_frames": 20, "min_frames": 10}
    one = Decoding(hold_temperature=None)
    plain = sample_tokens(model, VOCABULARY, 3, decoding=one, **options)
    # The default holds at 1.0: at temperature 1.0 that is one softmax too.
    assert plain == sample_tokens(model, VOCABULARY, 3, **options)
    assert plain == sample_tokens(model, VOCABULARY, 3, decoding=Decoding(1.0, 1.0), **options)
    nucleus = Decoding(top_p=0.5, hold_temperature=None)
    assert plain != sample_tokens(model, VOCABULARY, 3, decoding=nucleus, **options)
    held = sample_tokens(model, VOCABULARY, 3, decoding=Decoding(1.0, 0.05), **options)
    assert plain != held


def test_the_race_draws_what_multinomial_draws_from_the_same_generator():
    probs = torch.softmax(torch.randn(5, len(VOCABULARY)) * 3, dim=-1)
    probs[1, 7:] = 0.0  # rows with impossible tokens, as the grammar makes them
    probs[1] /= probs[1].sum()
    ours, torchs = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    for _ in range(200):
        assert torch.equal(_race(probs, ours), torch.multinomial(probs, 1, generator=torchs))
    assert torch.equal(ours.get_state(), torchs.get_state())  # the same numbers were used


def test_reading_the_one_tied_token_is_summing_the_ties():
    # Each row allows at most one tied token, as the grammar does; row 2 allows none (its index
    # names a token whose logit is -inf).
    torch.manual_seed(1)
    tied = torch.zeros(8, dtype=torch.bool)
    tied[[1, 3, 5]] = True
    logits = torch.randn(3, 8)
    logits[0, [3, 5]] = logits[1, [1, 5]] = float("-inf")
    logits[2, [0, 1, 3, 5]] = float("-inf")
    tie_index = torch.tensor([[1], [3], [0]])
    summed = _tempered(logits, 0.8, 1.3, tied)
    read = _tempered(logits, 0.8, 1.3, tied, tie_index)
    assert torch.equal(read, summed)  # the same numbers, bit for bit
