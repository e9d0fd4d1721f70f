"""The frame grammar of the encoding, as masks over the vocabulary for sampling.

A chorale is ``START ([(.)] v v v v |||)* END`` with four voice tokens ``v`` per frame, and a tied
token ``(p, True)`` only where the same voice sounded ``p`` in the previous frame. Sampling
forbids (logit −inf) exactly the tokens that would break this, so every piece decodes without
repair; the model still chooses every note, rest, fermata and the end. ``END`` can also be held
back until ``min_frames`` frames exist, so pieces are not cut short by an early cadence.

With ``voice_leading`` (the default) a voice token is also forbidden where it would make
parallel or antiparallel fifths or octaves with a voice already written in the frame
(:mod:`composer.voice_leading`).

State per row (:class:`RowState`, plain ints: a token's bookkeeping costs less in Python than in
tensor calls): ``slot`` (voice tokens written in the current frame, 0-4), ``fermata`` (``(.)``
opened the current frame), ``frames`` (complete frames), and the pitches of the previous and the
current frame per voice (-1 for a rest or nothing). A row's mask depends on its state only
through a small key (:meth:`FrameGrammar.key`): what may open the frame, whether END may, the
voice's pitch before and the voice-leading pairs at risk; each key's mask is built once and kept,
so most tokens only look one up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from composer.encoding import (
    BAR_FRAMES,
    BLANK,
    END,
    FERMATA,
    FRAME_END,
    PAD,
    START,
    is_voice_token,
    parse_note_token,
)
from composer.metre import HALF_BAR
from composer.vocabulary import Vocabulary
from composer.voice_leading import breaking, risky_pairs

FULL = ("full",)  # the key of a frame with its four voices written: only ||| may follow
Key = tuple
_SHARED: dict[tuple, FrameGrammar] = {}


@dataclass(slots=True)
class RowState:
    slot: int = 0
    fermata: bool = False
    frames: int = 0
    previous: list[int] = field(default_factory=lambda: [-1] * 4)  # pitch per voice, frame before
    current: list[int] = field(default_factory=lambda: [-1] * 4)  # written so far in this frame
    phase: int | None = None  # frame 0's place in its bar (sixteenths); None: no metre rules
    fermata_before: bool = False  # the previous frame lay under a fermata


class StepMasks(NamedTuple):
    """One step's masks for n rows, and what the drawing may skip because no row needs it."""

    forbidden: torch.Tensor  # [n, V] bool
    end_possible: bool  # END is allowed in some row
    # [n, 1] long: the one tied token each row may draw (a forbidden token where none), or None
    # when no row may hold a note. The grammar allows at most one: the voice's note before.
    tie_index: torch.Tensor | None


class _Entry(NamedTuple):
    """A key's mask, kept: [V] and [1, V] views of the forbidden tokens, the tied token."""

    forbidden: torch.Tensor  # [V] bool
    forbidden_row: torch.Tensor  # [1, V] bool, the same memory
    tie: int  # the allowed tied token's id, or -1
    tie_index: torch.Tensor  # [1, 1] long: ``tie``, or a never-allowed token's id where -1


class FrameGrammar:
    def __init__(
        self, vocabulary: Vocabulary, device: torch.device, voice_leading: bool = True
    ) -> None:
        tokens = vocabulary.tokens
        self.voice_leading = voice_leading
        self.end, self.frame_end = vocabulary.id(END), vocabulary.id(FRAME_END)
        self.fermata, self.pad = vocabulary.id(FERMATA), vocabulary.id(PAD)
        parsed = [parse_note_token(t) for t in tokens]
        # Per token, as Python lists for advancing rows: a voice token?, its pitch (-1: none).
        self.voice_list = [is_voice_token(t) for t in tokens]
        self.pitch_list = [p[0] if p else -1 for p in parsed]
        # The same as [V] tensors for building masks.
        self.never = torch.tensor([t in (PAD, START, BLANK) for t in tokens], device=device)
        self.voice = torch.tensor(self.voice_list, device=device)
        self.pitch = torch.tensor(self.pitch_list, device=device)
        self.tied = torch.tensor([bool(p and p[1]) for p in parsed], device=device)
        ids = torch.arange(len(tokens), device=device)
        self.is_end, self.is_fermata = ids == self.end, ids == self.fermata
        self.is_frame_end = ids == self.frame_end
        self._masks: dict[Key, _Entry] = {}

    @classmethod
    def shared(
        cls, vocabulary: Vocabulary, device: torch.device, voice_leading: bool = True
    ) -> FrameGrammar:
        """One grammar per vocabulary, device and rule set, its masks kept from call to call (a
        chorale meets about a hundred keys, a batch a few hundred, mostly the same ones)."""
        key = (tuple(vocabulary.tokens), str(device), voice_leading)
        if key not in _SHARED:
            _SHARED[key] = cls(vocabulary, device, voice_leading)
        return _SHARED[key]

    def start(self, n: int, phases: Sequence[int] | None = None) -> list[RowState]:
        """Fresh rows; with ``phases`` (each row's bar phase) the metre rules apply
        (:func:`fermata_may_open`, :func:`may_hold`)."""
        if phases is None:
            return [RowState() for _ in range(n)]
        if len(phases) != n:
            raise ValueError(f"need {n} bar phases, got {len(phases)}")
        return [RowState(phase=int(p) % BAR_FRAMES) for p in phases]

    def key(self, row: RowState, min_frames: int) -> Key:
        """What a row's mask depends on: (opening, END allowed, held pitch, pairs at risk,
        fermata allowed, holding allowed)."""
        if row.slot >= 4:
            return FULL
        held = row.previous[row.slot]  # this voice's pitch in the previous frame
        opening = row.slot == 0 and not row.fermata  # nothing written in this frame yet
        pairs = risky_pairs(held, row.previous, row.current) if self.voice_leading else ()
        fermata = opening and fermata_may_open(row)
        return (opening, opening and row.frames >= min_frames, held, pairs, fermata, may_hold(row))

    def masks(self, rows: list[RowState], min_frames: int = 0) -> StepMasks:
        """The tokens each row may not draw, [n, V], for the rows' current states."""
        keys = [self.key(row, min_frames) for row in rows]
        entries = [self._masks.get(k) or self._build(k) for k in keys]
        end_possible = any(k is not FULL and k[1] for k in keys)
        if len(entries) == 1:  # sampling alone: the kept tensors themselves, nothing built
            entry = entries[0]
            return StepMasks(
                entry.forbidden_row, end_possible, entry.tie_index if entry.tie >= 0 else None
            )
        tie_index = None
        if any(entry.tie >= 0 for entry in entries):
            tie_index = torch.cat([entry.tie_index for entry in entries])  # [n, 1]
        return StepMasks(torch.stack([e.forbidden for e in entries]), end_possible, tie_index)

    def allowed(self, key: Key) -> torch.Tensor:
        """[V] bool: the tokens that keep a row with this key well formed."""
        if key is FULL:
            return self.is_frame_end & ~self.never
        opening, end_ok, held, pairs, fermata_ok, hold_ok = key
        # A tied token must repeat the pitch its voice had in the previous frame, where holding
        # is allowed at all (the metre rules).
        voice_ok = self.voice & (~self.tied | ((self.pitch == held) & hold_ok))
        if pairs:
            voice_ok &= ~breaking(self.pitch, held, pairs)
        allowed = voice_ok | (self.is_fermata & fermata_ok) | (self.is_end & end_ok)
        return allowed & ~self.never

    def _build(self, key: Key) -> _Entry:
        allowed = self.allowed(key)
        ties = (allowed & self.tied).nonzero()[:, 0].tolist()
        tie = ties[0] if ties else -1
        forbidden = ~allowed
        tie_index = torch.tensor([[tie if ties else self.pad]], device=allowed.device)
        entry = _Entry(forbidden, forbidden[None], tie, tie_index)
        self._masks[key] = entry
        return entry

    def advance(self, rows: list[RowState], chosen: list[int]) -> None:
        """Update each row's state, in place, with its chosen token id."""
        for row, token in zip(rows, chosen, strict=True):
            if self.voice_list[token]:
                row.current[min(row.slot, 3)] = self.pitch_list[token]
                row.slot += 1
            elif token == self.frame_end:
                row.previous, row.current = row.current, [-1] * 4
                row.fermata_before = row.fermata
                row.slot, row.fermata = 0, False
                row.frames += 1
            elif token == self.fermata:
                row.fermata = True


def fermata_may_open(row: RowState) -> bool:
    """Whether ``(.)`` may open the row's next frame. Without a phase, always. With one, a run of
    frames under a fermata may go on, but begins only on beat 1 or 3 of the bar,
    (phase + frame) mod 8 == 0, as Bach's do 97% of the time (``benchmarks/metre.py``)."""
    if row.phase is None or row.fermata_before:
        return True
    return (row.phase + row.frames) % HALF_BAR == 0


def may_hold(row: RowState) -> bool:
    """Whether a voice may hold its note into the row's current frame: with a phase, not over a
    bar line, (phase + frame) mod 16 == 0 (Bach: 0.6 notes in 100; the network 2-4)."""
    return row.phase is None or (row.phase + row.frames) % BAR_FRAMES != 0
