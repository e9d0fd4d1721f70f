"""The harmonizer: the language model, told what the fixed voices do before *and after* now.

BachBot harmonized with its composition model, which reads left to right and so cannot see the
melody's next note when it chooses a bass under the current one; beam search only partly makes
up for that. The harmonizer keeps the same left-to-right LSTM (so greedy and beam search, the
constraints and the scoring of composer.harmonize all apply unchanged) and adds a bidirectional
LSTM over the frames of the *masked* stream: each frame is read as its four voice tokens (a fixed
note or BLANK) and its fermata flag, and the encoder's output for the frame of the token being
predicted is fed beside every token (``ChoraleLSTM`` with ``condition_dim``). The decoder starts
as the shipped language model (new input columns at zero: ``ChoraleLSTM.grow_condition``), and
is trained on chorales with random voices blanked (composer.train_harmonizer).

Shapes: frame voices [B, F, 4] ids, fermata [B, F] 0/1, frame lengths [B] -> context
[B, F, 2 * encoder_hidden]; per token position the context of its target's frame [B, T, C].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from composer.conditioning import target_frames
from composer.encoding import FERMATA, PAD, Vocabulary
from composer.model import ChoraleLSTM, Hidden, ModelConfig


@dataclass
class HarmonizerConfig:
    decoder: dict = field(default_factory=dict)  # a ModelConfig's fields
    encoder_embedding: int = 32
    encoder_hidden: int = 128
    encoder_layers: int = 2
    encoder_dropout: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)


class Harmonizer(nn.Module):
    kind = "harmonizer"

    def __init__(self, config: HarmonizerConfig) -> None:
        super().__init__()
        self.config = config
        decoder_config = ModelConfig(**config.decoder)
        if decoder_config.condition_dim != 2 * config.encoder_hidden:
            raise ValueError(
                f"the decoder reads {decoder_config.condition_dim} condition features; "
                f"the encoder gives {2 * config.encoder_hidden}"
            )
        vocab_size = decoder_config.vocab_size
        self.frame_embedding = nn.Embedding(vocab_size, config.encoder_embedding)
        self.encoder = nn.LSTM(
            4 * config.encoder_embedding + 1,
            config.encoder_hidden,
            num_layers=config.encoder_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.encoder_dropout if config.encoder_layers > 1 else 0.0,
        )
        self.decoder = ChoraleLSTM(decoder_config)

    @classmethod
    def from_language_model(cls, model: ChoraleLSTM, **encoder: int | float) -> Harmonizer:
        """A harmonizer whose decoder starts as ``model`` (which then ignores the context)."""
        hidden = int(encoder.get("encoder_hidden", HarmonizerConfig.encoder_hidden))
        decoder = model.grow_condition(2 * hidden)
        harmonizer = cls(HarmonizerConfig(decoder=decoder.config.to_dict(), **encoder))
        harmonizer.decoder.load_state_dict(decoder.state_dict())
        return harmonizer

    def encode(
        self, voices: torch.Tensor, fermata: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """[B, F, 4] ids, [B, F] flags, [B] frame counts -> [B, F, 2H] context per frame."""
        batch, frames, _ = voices.shape
        x = self.frame_embedding(voices).reshape(batch, frames, -1)  # [B, F, 4E]
        x = torch.cat([x, fermata.unsqueeze(-1).to(x.dtype)], dim=-1)  # [B, F, 4E + 1]
        # Packed, so that the backward direction of each row starts at its own last frame.
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=frames)
        return out  # [B, F, 2H]

    def condition(
        self,
        masked_ids: torch.Tensor,
        frames: FrameBatch,
        frame_end_id: int,
    ) -> torch.Tensor:
        """[B, T] masked streams -> [B, T, C]: the context of each position's target frame."""
        context = self.encode(frames.voices, frames.fermata, frames.lengths)  # [B, F, C]
        index = target_frames(masked_ids, frame_end_id)  # [B, T]
        index = torch.minimum(index, (frames.lengths - 1).clamp(min=0)[:, None])  # END: last
        return context.gather(1, index[..., None].expand(-1, -1, context.size(-1)))

    def forward(
        self,
        input_ids: torch.Tensor,
        hidden: Hidden | None = None,
        condition: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        return self.decoder(input_ids, hidden, condition)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


@dataclass
class FrameBatch:
    voices: torch.Tensor  # [B, F, 4] voice token ids of each frame (BLANK where masked)
    fermata: torch.Tensor  # [B, F] 1.0 where the frame opens with (.)
    lengths: torch.Tensor  # [B] frames per row


def frame_batch(
    streams: Sequence[Sequence[int]],
    layouts: Sequence[Sequence[Sequence[int]]],
    vocab: Vocabulary,
    device: torch.device | str = "cpu",
) -> FrameBatch:
    """Frames of masked id streams, given each stream's layout (harmonize.frame_layout)."""
    pad, fermata_id = vocab.id(PAD), vocab.id(FERMATA)
    width = max(len(layout) for layout in layouts)
    voices = torch.full((len(streams), width, 4), pad, dtype=torch.long)
    fermata = torch.zeros(len(streams), width)
    for row, (ids, layout) in enumerate(zip(streams, layouts, strict=True)):
        positions = torch.tensor(layout, dtype=torch.long)  # [F, 4]
        row_ids = torch.as_tensor(ids, dtype=torch.long)
        voices[row, : len(layout)] = row_ids[positions]
        fermata[row, : len(layout)] = (row_ids[positions[:, 0] - 1] == fermata_id).float()
    lengths = torch.tensor([len(layout) for layout in layouts], dtype=torch.long)
    return FrameBatch(voices.to(device), fermata.to(device), lengths.to(device))
