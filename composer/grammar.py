"""The frame grammar of the encoding, as masks over the vocabulary for batched sampling.

A chorale is ``START ([(.)] v v v v |||)* END`` with four voice tokens ``v`` per frame, and a tied
token ``(p, True)`` only where the same voice sounded ``p`` in the previous frame. Sampling
forbids (logit −inf) exactly the tokens that would break this, so every piece decodes without
repair; the model still chooses every note, rest, fermata and the end. ``END`` can also be held
back until ``min_frames`` frames exist, so pieces are not cut short by an early cadence.

State per row (all tensors of shape [n]): ``slot`` (voice tokens written in the current frame,
0-4), ``fermata`` (``(.)`` opened the current frame), ``frames`` (complete frames), and the
pitches of the previous and the current frame, [n, 4] (-1 for a rest or nothing).

With ``voice_leading`` (the default) a voice token is also forbidden where it would make
parallel or antiparallel fifths or octaves with a voice already written in the frame
(:mod:`composer.voice_leading`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from composer.encoding import (
    BLANK,
    END,
    FERMATA,
    FRAME_END,
    PAD,
    START,
    is_voice_token,
    parse_note_token,
)
from composer.vocabulary import Vocabulary
from composer.voice_leading import parallel_free


@dataclass
class GrammarState:
    slot: torch.Tensor  # [n] long
    fermata: torch.Tensor  # [n] bool
    frames: torch.Tensor  # [n] long
    previous: torch.Tensor  # [n, 4] long, pitch per voice in the previous frame (-1: none)
    current: torch.Tensor  # [n, 4] long, pitch per voice written so far in this frame


class FrameGrammar:
    def __init__(
        self, vocabulary: Vocabulary, device: torch.device, voice_leading: bool = True
    ) -> None:
        tokens = vocabulary.tokens
        self.voice_leading = voice_leading
        self.end, self.frame_end = vocabulary.id(END), vocabulary.id(FRAME_END)
        self.fermata = vocabulary.id(FERMATA)
        self.never = torch.tensor([t in (PAD, START, BLANK) for t in tokens], device=device)
        self.voice = torch.tensor([is_voice_token(t) for t in tokens], device=device)  # [V]
        parsed = [parse_note_token(t) for t in tokens]
        # [V]: the pitch a token sounds (-1 for REST and non-voice tokens); whether it is tied.
        self.pitch = torch.tensor([p[0] if p else -1 for p in parsed], device=device)
        self.tied = torch.tensor([bool(p and p[1]) for p in parsed], device=device)
        self.device = device
        # [V] one-hot masks of the structural tokens, built once rather than at every step.
        ids = torch.arange(len(tokens), device=device)
        self.is_end = ids == self.end
        self.is_fermata = ids == self.fermata
        self.is_frame_end = ids == self.frame_end

    def start(self, n: int) -> GrammarState:
        zeros = torch.zeros(n, dtype=torch.long, device=self.device)
        empty = torch.full((n, 4), -1, dtype=torch.long, device=self.device)
        return GrammarState(
            zeros.clone(), zeros.bool(), zeros.clone(), empty.clone(), empty.clone()
        )

    def allowed(self, state: GrammarState, min_frames: int = 0) -> torch.Tensor:
        """[n, V] bool: the tokens that keep each row's stream well formed."""
        at_frame_start = (state.slot == 0)[:, None]  # [n, 1]
        frame_full = (state.slot == 4)[:, None]
        # A tied token must repeat the pitch its voice had in the previous frame.
        voice_index = state.slot.clamp(max=3)[:, None]  # [n, 1]
        held = state.previous.gather(1, voice_index)  # [n, 1]
        tie_ok = ~self.tied[None, :] | (self.pitch[None, :] == held)  # [n, V]
        voice_ok = self.voice[None, :] & ~frame_full & tie_ok
        if self.voice_leading:
            own_before = held[:, 0]  # [n]: this voice's pitch in the previous frame
            voice_ok &= parallel_free(self.pitch, own_before, state.previous, state.current)
        is_end, is_fermata, is_frame_end = self.is_end, self.is_fermata, self.is_frame_end
        opening = at_frame_start & ~state.fermata[:, None]  # nothing written in this frame yet
        end_ok = is_end[None, :] & opening & (state.frames >= min_frames)[:, None]
        fermata_ok = is_fermata[None, :] & opening
        frame_end_ok = is_frame_end[None, :] & frame_full
        return (voice_ok | end_ok | fermata_ok | frame_end_ok) & ~self.never[None, :]

    def advance(self, state: GrammarState, chosen: torch.Tensor) -> GrammarState:
        """Update each row's state with its chosen token ids, [n]."""
        is_voice = self.voice[chosen]
        slot = state.slot.clamp(max=3)
        current = state.current.clone()
        rows = torch.arange(len(chosen), device=chosen.device)
        current[rows[is_voice], slot[is_voice]] = self.pitch[chosen[is_voice]]
        closed = chosen == self.frame_end
        return GrammarState(
            slot=torch.where(closed, 0, state.slot + is_voice.long()),
            fermata=(state.fermata | (chosen == self.fermata)) & ~closed,
            frames=state.frames + closed.long(),
            previous=torch.where(closed[:, None], current, state.previous),
            current=torch.where(closed[:, None], torch.full_like(current, -1), current),
        )
