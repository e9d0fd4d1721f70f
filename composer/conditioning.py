"""Features fed beside each token: which frame the next token belongs to, and the piece's length.

A left-to-right LSTM does not count well: BachBot's model (and ours) wrote pieces that ran past
400 frames without an END about one time in six at temperature 0.8. The length-aware composer is
told, at every token, how far through a piece of a chosen length it is; it learns to close the
piece when the length is reached. The length is drawn from the lengths of Bach's own chorales
when sampling (composer.sample) and is the chorale's true length in training and validation:
that tells the model at most log(400) ≈ 6 nats about a chorale of ~1,100 tokens, 0.005 nats per
token, so validation losses of the two kinds of model stay comparable.

The metre-aware composer also reads where in its bar each frame lies. Frame 0 of a chorale is its
first note, which after a pickup is not a downbeat: each chorale's *phase* (frame 0's place in its
bar, in sixteenths; ``composer/data/bar_phase.json``, written by ``python -m composer prepare``)
puts frame f at (phase + f) mod 16. That place is given as sines and cosines of periods 4, 8 and
16 frames (beat, half bar, bar): smooth, and each period's pair names its place uniquely. Phases
are drawn from Bach's when sampling and are each chorale's own in training (at most log(16) ≈ 2.8
nats per chorale: validation losses stay comparable).
"""

from __future__ import annotations

import math

import torch

from composer.encoding import BAR_FRAMES  # 4/4 in sixteenths: every kept chorale

LENGTH_FEATURES = 3
NEAR_END_FRAMES = 32.0  # two bars: "frames left" saturates beyond this
LENGTH_SCALE = 400.0  # BachBot's longest kept piece
METRE_PERIODS = (4, 8, 16)  # frames: beat, half bar, bar
METRE_FEATURES = 2 * len(METRE_PERIODS)
METRE_CONDITION = LENGTH_FEATURES + METRE_FEATURES  # a metre-aware model reads both


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


def metre_features(frame: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
    """[..., T] frame indices and [...] phases (frame 0's place in its bar) -> [..., T, 6].

    (sin, cos) of 2π·position/period for the periods 4, 8, 16, position = (phase + frame) mod 16.
    """
    position = (frame + phase.to(frame.device).unsqueeze(-1)) % BAR_FRAMES  # [..., T]
    angles = [2 * math.pi * position.to(torch.float32) / period for period in METRE_PERIODS]
    return torch.stack([f(a) for a in angles for f in (torch.sin, torch.cos)], dim=-1)


def stream_metre_features(
    ids: torch.Tensor, frame_end_id: int, pad_id: int, phases: torch.Tensor
) -> torch.Tensor:
    """Whole streams [B, T] and their phases [B] -> [B, T, 9]: length then metre features."""
    frames = target_frames(ids, frame_end_id)  # [B, T]
    length = stream_length_features(ids, frame_end_id, pad_id)  # [B, T, 3]
    return torch.cat([length, metre_features(frames, phases)], dim=-1)


def stream_condition(
    ids: torch.Tensor,
    frame_end_id: int,
    pad_id: int,
    condition_dim: int,
    phases: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """What a model reading ``condition_dim`` features is given for whole streams [B, T]:
    None (plain), [B, T, 3] (length-aware) or [B, T, 9] (metre-aware, needs ``phases`` [B])."""
    if condition_dim == 0:
        return None
    if condition_dim == LENGTH_FEATURES:
        return stream_length_features(ids, frame_end_id, pad_id)
    if condition_dim == METRE_CONDITION:
        if phases is None:
            raise ValueError("a metre-aware model needs each chorale's bar phase")
        return stream_metre_features(ids, frame_end_id, pad_id, phases)
    raise ValueError(f"no features of {condition_dim} dimensions")


def step_condition(
    frames: torch.Tensor, targets: torch.Tensor, phases: torch.Tensor | None
) -> torch.Tensor:
    """One sampling step: frames [n, 1] of the next token, target lengths [n], phases [n] or
    None -> [n, 1, 3] length features, or [n, 1, 9] with the metre's."""
    length = length_features(frames, targets)
    if phases is None:
        return length
    return torch.cat([length, metre_features(frames, phases)], dim=-1)


class StepConditions:
    """The features of each sampling step for ``targets`` [n] (and ``phases`` [n] or None),
    rebuilt only when a row's frame changes: about one token in five when sampling alone."""

    def __init__(self, targets: torch.Tensor, phases: torch.Tensor | None) -> None:
        self.targets, self.phases = targets, phases
        self._frames: list[int] | None = None
        self._features: torch.Tensor | None = None

    def at(self, frames: list[int]) -> torch.Tensor:
        """Frames [n] of the next token per row -> [n, 1, 3 or 9] (:func:`step_condition`)."""
        if frames != self._frames:
            self._frames = list(frames)
            frame = torch.tensor(frames, device=self.targets.device)[:, None]  # [n, 1]
            self._features = step_condition(frame, self.targets, self.phases)
        return self._features
