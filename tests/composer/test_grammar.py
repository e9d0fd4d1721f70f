"""The frame grammar the sampler obeys: even an untrained model writes well-formed chorales."""

from __future__ import annotations

import torch

from composer.encoding import parse_note_token, split_frames
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens
from composer.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()


def random_model() -> ChoraleLSTM:
    torch.manual_seed(0)
    return ChoraleLSTM(ModelConfig(len(VOCABULARY), 8, 16, 1)).eval()


def test_an_untrained_model_under_the_grammar_writes_well_formed_frames():
    streams = sample_tokens(
        random_model(), VOCABULARY, 6, temperature=1.0, seed=3, max_frames=30, min_frames=5
    )
    for tokens in streams:
        frames = split_frames(tokens)  # raises on any malformed frame
        assert len(frames) >= 5  # END is held back until min_frames
        previous = [None] * 4
        for _, voices in frames:
            for v, token in enumerate(voices):
                parsed = parse_note_token(token)
                if parsed and parsed[1]:
                    assert parsed[0] == previous[v], "a tie must continue the same pitch"
            previous = [p[0] if (p := parse_note_token(t)) else None for t in voices]
        assert not {"PAD", "START", "BLANK"} & set(tokens[1:])


def test_without_the_grammar_the_same_model_breaks_frames():
    streams = sample_tokens(
        random_model(), VOCABULARY, 6, temperature=1.0, seed=3, max_frames=30, grammar=False
    )
    broken = 0
    for tokens in streams:
        try:
            split_frames(tokens)
        except ValueError:
            broken += 1
    assert broken > 0
