"""Small models and streams the composer tests share: TINY training settings (a one-layer model
that trains in seconds), random and biased models, and short streams."""

from __future__ import annotations

import torch

from composer.encoding import FERMATA
from composer.harmonization.masks import frame_layout
from composer.harmonization.reader import Harmonizer
from composer.model import ChoraleLSTM, ModelConfig

TINY = dict(
    embedding_dim=8, hidden_size=32, num_layers=1, dropout=0.0, seq_len=32, batch_size=4, lr=1e-2
)


def random_model(vocabulary, layers: int = 2, seed: int = 0) -> ChoraleLSTM:
    torch.manual_seed(seed)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=layers)
    return ChoraleLSTM(config).eval()


def biased_model(vocabulary, tokens: list[str], bias: float = 50.0) -> ChoraleLSTM:
    """A random model that all but insists on ``tokens`` wherever it is asked."""
    model = random_model(vocabulary)
    with torch.no_grad():
        for token in tokens:
            model.head.bias[vocabulary.id(token)] += bias
    return model


def short(tokens: list[str], frames: int = 24) -> list[str]:
    """The first ``frames`` frames of a chorale, as a whole stream (keeps the tests quick)."""
    end = [i for i, t in enumerate(tokens) if t == "|||"][frames - 1]
    return [*tokens[: end + 1], "END"]


def blank_frames(tokens: list[str]) -> list[tuple[bool, list[str]]]:
    """Frames ``(under_fermata, [S, A, T, B])`` of a stream that may hold BLANK."""
    return [
        (tokens[slots[0] - 1] == FERMATA, [tokens[p] for p in slots])
        for slots in frame_layout(tokens)
    ]


def harmonizer_of(language_model: ChoraleLSTM, weights: list[float]) -> Harmonizer:
    torch.manual_seed(2)
    reader = {"encoder_hidden": 8, "encoder_embedding": 8, "fusion_weights": weights}
    return Harmonizer.from_language_model(language_model, **reader).eval()
