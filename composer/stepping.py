"""Stepping a language model one token at a time with its state kept, as sampling does.

:meth:`ChoraleLSTM.forward` runs one ``nn.LSTM`` per layer so that dropout and LayerNorm can sit
between layers; one token at a time that costs a kernel call per layer and a concatenation of the
states. Without LayerNorm (and in eval mode, where dropout is nothing) the stack is exactly one
multi-layer LSTM, so :class:`Stepper` hands all layers' weights to one ``torch.lstm`` call, the
condition's weights appended to the first layer's input weights as the model's own conditioned
layer does. A model with LayerNorm, or any other model (a test's scripted one), is stepped
through its own ``forward``.

On the CPU the loop runs with oneDNN off (:func:`native_lstm_kernels`): oneDNN's LSTM reorders
the weights at every call, which for one step at a time costs more than the step itself (it is
the faster kernel for training's long windows, which this does not touch).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from composer.model import ChoraleLSTM, Hidden


@contextmanager
def native_lstm_kernels(device: torch.device) -> Iterator[None]:
    """ATen's own LSTM kernels instead of oneDNN's while stepping on the CPU (a process-wide
    switch, restored on exit; it changes speed and, in the last bits, no token drawn)."""
    if device.type != "cpu":
        yield
        return
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


class Stepper:
    """``step(ids [n, 1], condition [n, 1, C] or None) -> logits [n, V]``, the state kept."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.hidden: Hidden | None = None
        config = getattr(model, "config", None)
        self.fused = type(model) is ChoraleLSTM and not config.layer_norm and not model.training
        if self.fused:
            self.weights = _flat_weights(model)
            self.num_layers = config.num_layers
            self.condition_dim = config.condition_dim

    def step(self, ids: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        if not self.fused:
            logits, self.hidden = self.model(ids, self.hidden, condition)  # [n, 1, V]
            return logits[:, -1]
        if (condition is None) != (self.condition_dim == 0):
            raise ValueError(f"this model reads {self.condition_dim} condition features a step")
        model = self.model
        x = nn.functional.embedding(ids.T, model.embedding.weight)  # [1, n, E]: time first
        if condition is not None:
            x = torch.cat([x, condition.transpose(0, 1)], dim=-1)  # [1, n, E + C]
        if self.hidden is None:
            zeros = x.new_zeros(self.num_layers, x.size(1), model.config.hidden_size)
            self.hidden = (zeros, zeros)  # [L, n, H] each
        # (input, (h, c), weights, has_biases, layers, dropout, train, bidirectional, batch_first)
        out, h, c = torch.lstm(
            x, self.hidden, self.weights, True, self.num_layers, 0.0, False, False, False
        )
        self.hidden = (h, c)
        return nn.functional.linear(out[0], model.head.weight, model.head.bias)  # [n, V]


def _flat_weights(model: ChoraleLSTM) -> list[torch.Tensor]:
    """Per layer (w_ih, w_hh, b_ih, b_hh), the first layer's w_ih with the condition's columns:
    [4H, E + C], [4H, H], [4H], [4H]; then [4H, H] for w_ih of the layers above."""
    weights = []
    for i, layer in enumerate(model.layers):
        w_ih = model.first_layer_input_weight() if i == 0 else layer.weight_ih_l0
        weights += [w_ih.detach(), layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0]
    return weights
