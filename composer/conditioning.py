"""Features fed beside each token: which frame the next token belongs to, and the piece's length.

A left-to-right LSTM does not count well: BachBot's model (and ours) wrote pieces that ran past
400 frames without an END about one time in six at temperature 0.8. The length-aware composer is
told, at every token, how far through a piece of a chosen length it is; it learns to close the
piece when the length is reached. The length is drawn from the lengths of Bach's own chorales
when sampling (composer.sample) and is the chorale's true length in training and validation:
that tells the model at most log(400) ≈ 6 nats about a chorale of ~1,100 tokens, 0.005 nats per
token, so validation losses of the two kinds of model stay comparable.
"""

from __future__ import annotations

import torch

LENGTH_FEATURES = 3
NEAR_END_FRAMES = 32.0  # two bars: "frames left" saturates beyond this
LENGTH_SCALE = 400.0  # BachBot's longest kept piece


def target_frames(ids: torch.Tensor, frame_end_id: int) -> torch.Tensor:
    """[..., T] ids -> [..., T]: the frame of the token each position predicts.

    The frame of token p + 1 is the number of ``|||`` among tokens 0..p: ``|||`` closes its own
    frame, so the token after it starts the next one, and END's frame is the number of frames.
    """
    return torch.cumsum((ids == frame_end_id).long(), dim=-1)


def length_features(frame: torch.Tensor, total_frames: torch.Tensor) -> torch.Tensor:
    """[..., T] frame indices and [...] lengths in frames -> [..., T, 3] features.

    (progress f / L, frames left min(L - f, 32) / 32 clamped at 0, L / 400).
    """
    total = total_frames.to(torch.float32).unsqueeze(-1).expand(frame.shape)  # [..., T]
    frame = frame.to(torch.float32)
    progress = frame / total
    left = ((total - frame).clamp(0, NEAR_END_FRAMES)) / NEAR_END_FRAMES
    return torch.stack([progress, left, total / LENGTH_SCALE], dim=-1)


def stream_length_features(ids: torch.Tensor, frame_end_id: int, pad_id: int) -> torch.Tensor:
    """Whole streams [B, T] (START ... END, then PAD) -> features [B, T, 3] of each position."""
    frames = target_frames(ids, frame_end_id)  # [B, T]
    real = ids != pad_id
    total = ((ids == frame_end_id) & real).sum(dim=-1).clamp(min=1)  # [B]
    return length_features(frames, total)
