"""The LSTM: shapes, options, and that carrying the state equals reading in one go."""

from __future__ import annotations

import torch

from composer.model import ChoraleLSTM, ModelConfig


def test_it_maps_ids_to_logits_and_state_of_the_right_shapes():
    model = ChoraleLSTM(ModelConfig(vocab_size=119, embedding_dim=8, hidden_size=16, num_layers=3))
    logits, (h, c) = model(torch.randint(0, 119, (2, 7)))
    assert logits.shape == (2, 7, 119)
    assert h.shape == c.shape == (3, 2, 16)


def test_layer_norm_between_layers_is_an_option():
    config = ModelConfig(
        vocab_size=20, embedding_dim=4, hidden_size=8, num_layers=2, layer_norm=True
    )
    model = ChoraleLSTM(config)
    assert sum(isinstance(m, torch.nn.LayerNorm) for m in model.modules()) == 2
    assert model(torch.zeros(1, 3, dtype=torch.long))[0].shape == (1, 3, 20)


def test_carrying_the_state_across_windows_equals_one_long_window():
    torch.manual_seed(0)
    model = ChoraleLSTM(
        ModelConfig(vocab_size=30, embedding_dim=8, hidden_size=16, num_layers=2)
    ).eval()
    ids = torch.randint(0, 30, (3, 12))
    whole, _ = model(ids)
    first, hidden = model(ids[:, :5])
    second, _ = model(ids[:, 5:], ChoraleLSTM.detach(hidden))
    assert torch.allclose(torch.cat([first, second], dim=1), whole, atol=1e-5)
