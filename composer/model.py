"""The BachBot language model: embedding -> stacked LSTM (dropout, optional LayerNorm) -> linear.

Shapes: ``input_ids`` [B, T] -> ``logits`` [B, T, V]; the hidden state is ``(h, c)`` with each
[L, B, H] (L layers, H hidden units), as ``nn.LSTM`` uses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

Hidden = tuple[torch.Tensor, torch.Tensor]


@dataclass
class ModelConfig:
    vocab_size: int
    embedding_dim: int = 32
    hidden_size: int = 256
    num_layers: int = 3
    dropout: float = 0.3
    layer_norm: bool = False  # BachBot had batch-norm between layers; LayerNorm suits RNNs better
    # Extra features per input position, fed to the first layer beside the token's embedding
    # (0: none, BachBot's model). The length-aware composer gives 3 (composer.conditioning).
    condition_dim: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class ChoraleLSTM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        # One nn.LSTM per layer so that dropout and normalisation can sit between layers.
        sizes = [config.embedding_dim] + [config.hidden_size] * config.num_layers
        self.layers = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(config.num_layers)
        )
        self.norms = nn.ModuleList(
            nn.LayerNorm(config.hidden_size) if config.layer_norm else nn.Identity()
            for _ in range(config.num_layers)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.condition_dim:
            # The first layer's input weights for the condition, [4H, C], kept apart from its
            # weights for the embedding so that fine-tuning can give the new inputs a learning
            # rate of their own (Adam moves every weight by about the rate per step, so weights
            # that start at zero under a fine-tuning rate would take thousands of steps to matter).
            # Zero at first: a grown model computes exactly what its language model computes.
            self.condition_weight = nn.Parameter(
                torch.zeros(4 * config.hidden_size, config.condition_dim)
            )

    def forward(
        self,
        input_ids: torch.Tensor,
        hidden: Hidden | None = None,
        condition: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        x = self.embed(input_ids, condition)  # [B, T, E + C]
        h_out, c_out = [], []
        for i, (lstm, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            state = None if hidden is None else (hidden[0][i : i + 1], hidden[1][i : i + 1])
            if i == 0 and self.config.condition_dim:
                x, (h, c) = self._conditioned_first_layer(x, state)
            else:
                x, (h, c) = lstm(x, state)  # x: [B, T, H]; h, c: [1, B, H]
            x = self.dropout(norm(x))
            h_out.append(h)
            c_out.append(c)
        return self.head(x), (torch.cat(h_out), torch.cat(c_out))  # [B, T, V], ([L,B,H], [L,B,H])

    def first_layer_input_weight(self) -> torch.Tensor:
        """[4H, E + C]: the first layer's input weights, the condition's included."""
        weight = self.layers[0].weight_ih_l0
        if self.config.condition_dim:
            weight = torch.cat([weight, self.condition_weight], dim=1)
        return weight

    def _conditioned_first_layer(
        self, x: torch.Tensor, state: Hidden | None
    ) -> tuple[torch.Tensor, Hidden]:
        """nn.LSTM's own kernel with the condition's weights appended: [B, T, E + C] in."""
        lstm = self.layers[0]
        if state is None:
            zeros = x.new_zeros(1, x.size(0), self.config.hidden_size)
            state = (zeros, zeros)
        weights = [
            self.first_layer_input_weight(),
            lstm.weight_hh_l0,
            lstm.bias_ih_l0,
            lstm.bias_hh_l0,
        ]
        out, h, c = torch.lstm(x, state, weights, True, 1, 0.0, self.training, False, True)
        return out, (h, c)

    def embed(self, input_ids: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        """The first layer's input: [B, T] ids (+ [B, T, C] condition) -> [B, T, E + C]."""
        x = self.embedding(input_ids)
        if self.config.condition_dim == 0:
            if condition is not None:
                raise ValueError("this model takes no condition")
            return x
        if condition is None or condition.shape != (*input_ids.shape, self.config.condition_dim):
            shape = None if condition is None else tuple(condition.shape)
            raise ValueError(
                f"condition must be [B, T, {self.config.condition_dim}] beside ids "
                f"{tuple(input_ids.shape)}, got {shape}"
            )
        return torch.cat([x, condition.to(x.dtype)], dim=-1)

    def grow_condition(self, condition_dim: int) -> ChoraleLSTM:
        """A copy that also reads ``condition_dim`` features, starting as this very model.

        The condition's input weights start at zero, so the copy computes exactly what
        this model computes until training teaches it to use the features: fine-tuning from the
        shipped language model instead of training from scratch.
        """
        if self.config.condition_dim:
            raise ValueError("this model already reads a condition")
        config = ModelConfig(**{**self.config.to_dict(), "condition_dim": condition_dim})
        grown = ChoraleLSTM(config)
        missing, unexpected = grown.load_state_dict(self.state_dict(), strict=False)
        assert missing == ["condition_weight"] and not unexpected, (missing, unexpected)
        return grown

    @staticmethod
    def detach(hidden: Hidden) -> Hidden:
        """Cut the graph between windows (truncated BPTT) while keeping the state's values."""
        return hidden[0].detach(), hidden[1].detach()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA when present (or asked for), else CPU: the same code runs on both."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)
