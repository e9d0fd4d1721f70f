"""Stepping the network a token at a time: the fused call gives the logits the model's own
forward gives, with a condition or without; LayerNorm models and other modules step through
their forward; the CPU's LSTM kernel is switched back after sampling."""

from __future__ import annotations

import pytest
import torch

from composer.model import ChoraleLSTM, ModelConfig
from composer.stepping import Stepper, native_lstm_kernels
from composer.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()


def model(layer_norm: bool = False, condition_dim: int = 0) -> ChoraleLSTM:
    torch.manual_seed(0)
    config = ModelConfig(len(VOCABULARY), 8, 16, 3, layer_norm=layer_norm)
    lm = ChoraleLSTM(config)
    if condition_dim:
        lm = lm.grow_condition(condition_dim)
        torch.nn.init.normal_(lm.condition_weight)  # a condition that changes the logits
    return lm.eval()


@pytest.mark.parametrize(
    ("layer_norm", "condition_dim", "fused"), [(False, 0, True), (False, 3, True), (True, 9, False)]
)
@torch.no_grad()
def test_steps_give_the_logits_of_the_whole_sequence(layer_norm, condition_dim, fused):
    lm = model(layer_norm, condition_dim)
    ids = torch.randint(3, len(VOCABULARY), (2, 12))  # [n, T]
    condition = torch.randn(2, 12, condition_dim) if condition_dim else None
    whole, _ = lm(ids, None, condition)  # [n, T, V]
    stepper = Stepper(lm)
    assert stepper.fused == fused
    steps = [
        stepper.step(ids[:, t : t + 1], None if condition is None else condition[:, t : t + 1])
        for t in range(12)
    ]
    assert torch.allclose(torch.stack(steps, dim=1), whole, atol=1e-5)


@torch.no_grad()
def test_a_step_needs_the_condition_the_model_reads():
    with pytest.raises(ValueError, match="3 condition features"):
        Stepper(model(condition_dim=3)).step(torch.tensor([[5]]), None)
    with pytest.raises(ValueError, match="0 condition features"):
        Stepper(model()).step(torch.tensor([[5]]), torch.zeros(1, 1, 3))


def test_a_training_model_is_stepped_through_its_forward():
    assert not Stepper(model().train()).fused


def test_the_native_kernels_are_switched_on_only_inside_and_only_on_the_cpu():
    before = torch.backends.mkldnn.enabled
    with native_lstm_kernels(torch.device("cpu")):
        assert not torch.backends.mkldnn.enabled
    assert torch.backends.mkldnn.enabled == before
    with pytest.raises(RuntimeError), native_lstm_kernels(torch.device("cpu")):
        raise RuntimeError("restored on errors too")
    assert torch.backends.mkldnn.enabled == before
    with native_lstm_kernels(torch.device("meta")):
        assert torch.backends.mkldnn.enabled == before
