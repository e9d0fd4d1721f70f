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

    def forward(
        self, input_ids: torch.Tensor, hidden: Hidden | None = None
    ) -> tuple[torch.Tensor, Hidden]:
        x = self.embedding(input_ids)  # [B, T, E]
        h_out, c_out = [], []
        for i, (lstm, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            state = None if hidden is None else (hidden[0][i : i + 1], hidden[1][i : i + 1])
            x, (h, c) = lstm(x, state)  # x: [B, T, H]; h, c: [1, B, H]
            x = self.dropout(norm(x))
            h_out.append(h)
            c_out.append(c)
        return self.head(x), (torch.cat(h_out), torch.cat(c_out))  # [B, T, V], ([L,B,H], [L,B,H])

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
