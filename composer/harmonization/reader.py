"""The harmonizer: the language model times a reader that sees the fixed voices on both sides.

BachBot harmonized with its composition model, which reads left to right: it cannot see the
melody's next note when it chooses a bass under the current one, and once a filled voice has
gone its own way the model follows its own notes rather than the fixed voices (teacher-forced,
it predicts 83-87% of the blanked tokens; harmonizing, about half). The harmonizer adds a
*frame reader*: a bidirectional LSTM over the masked chorale's frames (each read as its four
voice tokens, BLANK where masked, and its fermata flag; with ``pitch_features`` also each
token's pitch class, height and tie, and the frame's place in its beat, which the token
embeddings alone would have to learn from 316 chorales) that gives, for every frame and voice,
a distribution over that voice's token from the whole piece's fixed voices, independent of what
the search has chosen so far. Each blanked token is then drawn from the product of the two
experts, renormalised over the vocabulary::

    log p(token | stream so far, masked piece)
        = log_softmax(decoder logits + w[voice] * log_softmax(reader logits[frame, voice]))

and every fixed token from the language model alone. The search (greedy, beam, the constraints) and
the scoring of composer.harmonization.search are unchanged: the reader's part is a bias per
position, computed once per piece. The decoder is the shipped language model, untouched; only the
reader is trained (composer.training.finetune, ``--kind harmonizer``), on Bach's frames with random
voices blanked, and ``w`` (per voice, in the config) weighs it. With ``w = 0`` the harmonizer is
exactly its language model (tested).

Shapes: frame voices [B, F, 4] ids, fermata [B, F] 0/1, frame lengths [B] -> reader logits
[B, F, 4, V]; as a bias per input position (predicting the token after it) [B, T, V].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from composer.encoding import BLANK, FERMATA, FRAMES_PER_QUARTER, PAD, parse_note_token
from composer.model import ChoraleLSTM, Hidden, ModelConfig
from composer.vocabulary import Vocabulary

TOKEN_FEATURES = 16  # 12 pitch-class bits, height, is a note, tied, is BLANK


@dataclass
class HarmonizerConfig:
    decoder: dict = field(default_factory=dict)  # a plain ModelConfig's fields
    encoder_embedding: int = 32
    encoder_hidden: int = 192
    encoder_layers: int = 2
    encoder_dropout: float = 0.3
    # Besides each token's learned embedding, the reader gets what a musician reads off the note
    # (pitch class, height, tie, BLANK) and each frame's place in its beat (frame index mod 4).
    pitch_features: bool = False
    # How much the reader counts against the language model, per voice S, A, T, B.
    fusion_weights: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0])

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FrameBatch:
    voices: torch.Tensor  # [B, F, 4] voice token ids of each frame (BLANK where masked)
    fermata: torch.Tensor  # [B, F] 1.0 where the frame opens with (.)
    lengths: torch.Tensor  # [B] frames per row


class Harmonizer(nn.Module):
    kind = "harmonizer"

    def __init__(self, config: HarmonizerConfig) -> None:
        super().__init__()
        self.config = config
        decoder_config = ModelConfig(**config.decoder)
        if decoder_config.condition_dim:
            raise ValueError("the harmonizer's decoder is a plain language model (no condition)")
        if len(config.fusion_weights) != 4:
            raise ValueError(
                f"fusion_weights needs one weight per voice, got {config.fusion_weights}"
            )
        vocab_size, width = decoder_config.vocab_size, config.encoder_embedding
        self.decoder = ChoraleLSTM(decoder_config)
        self.frame_embedding = nn.Embedding(vocab_size, width)
        frame_width = 4 * width + 1  # four voice tokens and the fermata flag
        if config.pitch_features:
            # [V, TOKEN_FEATURES], filled from the vocabulary (token_features) and saved with it.
            self.register_buffer("token_features", torch.zeros(vocab_size, TOKEN_FEATURES))
            frame_width += 4 * TOKEN_FEATURES + FRAMES_PER_QUARTER  # + the place in the beat
        self.encoder = nn.LSTM(
            frame_width,
            config.encoder_hidden,
            num_layers=config.encoder_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.encoder_dropout if config.encoder_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(config.encoder_dropout)
        # Each voice's output is a query in token-embedding space, scored against every token:
        # tokens of neighbouring pitches start out alike, which the reader then learns from.
        self.voice_query = nn.Linear(2 * config.encoder_hidden, 4 * width)
        self.token_keys = nn.Parameter(torch.randn(vocab_size, width) * 0.1)
        self.token_bias = nn.Parameter(torch.zeros(vocab_size))
        self.register_buffer("fusion", torch.tensor(config.fusion_weights, dtype=torch.float32))

    @classmethod
    def from_language_model(
        cls, model: ChoraleLSTM, vocabulary: Vocabulary | None = None, **reader: object
    ) -> Harmonizer:
        """A harmonizer whose decoder is ``model`` and whose reader reads tokens as it does
        (``vocabulary``, the model's, is needed for ``pitch_features``)."""
        if model.config.condition_dim:
            raise ValueError("start from a plain language model (no condition inputs)")
        harmonizer = cls(HarmonizerConfig(decoder=model.config.to_dict(), **reader))  # type: ignore[arg-type]
        harmonizer.decoder.load_state_dict(model.state_dict())
        if harmonizer.config.pitch_features:
            if vocabulary is None or len(vocabulary) != model.config.vocab_size:
                raise ValueError("pitch_features needs the language model's vocabulary")
            harmonizer.token_features.copy_(token_features(vocabulary))
        if harmonizer.frame_embedding.weight.shape == model.embedding.weight.shape:
            with torch.no_grad():
                harmonizer.frame_embedding.weight.copy_(model.embedding.weight)
                harmonizer.token_keys.copy_(model.embedding.weight)
        return harmonizer

    def set_fusion_weights(self, weights: Sequence[float]) -> None:
        self.config.fusion_weights = [float(w) for w in weights]
        self.fusion.copy_(torch.tensor(self.config.fusion_weights))

    def frame_logits(self, frames: FrameBatch) -> torch.Tensor:
        """[B, F, 4, V]: each frame's voices' token logits, read from the fixed voices."""
        batch, width, _ = frames.voices.shape
        x = self.frame_embedding(frames.voices)  # [B, F, 4, E]
        if self.config.pitch_features:
            x = torch.cat([x, self.token_features[frames.voices]], dim=-1)  # [B, F, 4, E + 16]
        x = torch.cat([x.reshape(batch, width, -1), frames.fermata.unsqueeze(-1).to(x.dtype)], -1)
        if self.config.pitch_features:  # + the frame's place in its beat, [B, F, 4] one-hot
            # A chorale starts on a beat: 98% of the corpus's attacks fall on frame % 4 == 0 or 2.
            place = torch.arange(width, device=x.device) % FRAMES_PER_QUARTER
            beat = nn.functional.one_hot(place, FRAMES_PER_QUARTER).to(x.dtype)
            x = torch.cat([x, beat.expand(batch, -1, -1)], dim=-1)
        # Packed, so that the backward direction of each row starts at its own last frame.
        packed = nn.utils.rnn.pack_padded_sequence(
            x, frames.lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.encoder(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=width)
        queries = self.voice_query(self.dropout(out)).reshape(batch, width, 4, -1)  # [B,F,4,E]
        return queries @ self.token_keys.T + self.token_bias  # [B, F, 4, V]

    def bias(
        self,
        masked_ids: torch.Tensor,
        frames: FrameBatch,
        layouts: Sequence[Sequence[Sequence[int]]],
        blank_id: int,
    ) -> torch.Tensor:
        """[B, T] masked streams -> [B, T, V]: what the reader adds to the logits at each input
        position, w[voice] * its log-probabilities where the next token is a blank, else 0."""
        log_probs = torch.log_softmax(self.frame_logits(frames), dim=-1)  # [B, F, 4, V]
        rows, positions, frame_index, voices = _blank_slots(masked_ids, layouts, blank_id)
        bias = log_probs.new_zeros(*masked_ids.shape, log_probs.size(-1))  # [B, T, V]
        weights = self.fusion[voices][:, None]  # [K, 1]
        # The logits at position p - 1 predict the token at p.
        bias[rows, positions - 1] = weights * log_probs[rows, frame_index, voices]
        return bias

    def forward(
        self,
        input_ids: torch.Tensor,
        hidden: Hidden | None = None,
        bias: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        """The decoder's logits [B, T, V], plus the reader's ``bias`` [B, T, V] when given."""
        logits, hidden = self.decoder(input_ids, hidden)
        return (logits if bias is None else logits + bias), hidden

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def token_features(vocabulary: Vocabulary) -> torch.Tensor:
    """[V, TOKEN_FEATURES]: per token, its pitch class (one-hot), its height in octaves from
    middle C, 1 if a note, 1 if tied, 1 if BLANK; all zero for other tokens (REST, specials)."""
    table = torch.zeros(len(vocabulary), TOKEN_FEATURES)
    for index, token in enumerate(vocabulary.decode(range(len(vocabulary)))):
        note = parse_note_token(token)
        if note is not None:
            midi, tied = note
            table[index, midi % 12] = 1.0
            table[index, 12] = (midi - 60) / 12
            table[index, 13] = 1.0
            table[index, 14] = float(tied)
        table[index, 15] = float(token == BLANK)
    return table


def _blank_slots(
    masked_ids: torch.Tensor, layouts: Sequence[Sequence[Sequence[int]]], blank_id: int
) -> tuple[torch.Tensor, ...]:
    """(row, position, frame, voice) of every blanked voice slot, each [K]."""
    found = []
    for row, layout in enumerate(layouts):
        slots = torch.as_tensor(layout, dtype=torch.long, device=masked_ids.device)  # [F, 4]
        blank = masked_ids[row, slots] == blank_id  # [F, 4]
        frame_index, voices = blank.nonzero(as_tuple=True)
        rows = torch.full_like(frame_index, row)
        found.append((rows, slots[frame_index, voices], frame_index, voices))
    return tuple(torch.cat(parts) for parts in zip(*found, strict=True))


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
