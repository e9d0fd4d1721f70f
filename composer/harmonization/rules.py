"""What a harmonization may write in each blank: the search's constraints as [R, V] masks.

Constraints (on by default, as −inf masks on the logits):

* range: a filled note lies in its voice's :data:`VOICE_RANGES`;
* order: a filled note is not above any sounding voice above it in the frame (those are always
  known: fixed or already chosen) and not below any sounding *fixed* voice under it, so
  S ≥ A ≥ T ≥ B wherever both notes are known (Bach crosses voices in about 2% of frames);
* ties: ``(p, True)`` only where the same voice sounded ``p`` in the previous frame;
* rests: a filled voice may rest only in a frame where a fixed voice rests. 93% of the corpus's
  frames with a rest are silent in all four voices, and without this rule a weak model's greedy
  search can fill a whole voice with ``REST`` (one rest makes the next likely);
* voice leading (``voice_leading``, on by default): a filled note makes no parallel or
  antiparallel fifth or octave with any voice known in its frame (:mod:`composer.voice_leading`);
  where that leaves a beam nothing (two fixed voices can force it), the rule is dropped there.

Where fixed voices leave a beam no candidate (a soprano below the alto's range), the order and
rest rules are dropped for that blank; an untied note in range always remains.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from composer.encoding import BLANK, REST, VOICE_RANGES, VOICES, is_voice_token, parse_note_token
from composer.vocabulary import Vocabulary
from composer.voice_leading import parallel_free


class Rules:
    """Which token ids a blank may take, per beam: [R, V] boolean masks."""

    def __init__(
        self,
        vocab: Vocabulary,
        tokens: Sequence[str],
        layout: list[list[int]],
        constraints: bool,
        device: torch.device,
        voice_leading: bool = True,
    ) -> None:
        parsed = [parse_note_token(t) for t in vocab.tokens]
        self.constraints = constraints
        self.voice_leading = voice_leading
        self.pitch = torch.tensor([p[0] if p else -1 for p in parsed], device=device)  # [V]
        self.tied = torch.tensor([bool(p and p[1]) for p in parsed], device=device)  # [V]
        self.rest = torch.tensor([t == REST for t in vocab.tokens], device=device)  # [V]
        self.voice = torch.tensor([is_voice_token(t) for t in vocab.tokens], device=device)
        # Per blank position: (notes in range [V], static mask [V], positions of the voices
        # above in the frame, position of this voice in the previous frame).
        self.blanks: dict[int, tuple[torch.Tensor, torch.Tensor, list[int], int | None]] = {}
        # Per blank position after the first frame: the other voices' positions in the previous
        # frame and in this one, for the voice-leading rule.
        self.pairs: dict[int, tuple[list[int], list[int]]] = {}
        for f, slots in enumerate(layout):
            fixed = [tokens[p] for p in slots if tokens[p] != BLANK]
            for v, position in enumerate(slots):
                if tokens[position] != BLANK:
                    continue
                low, high = VOICE_RANGES[VOICES[v]]
                in_range = (self.pitch >= low) & (self.pitch <= high)
                below = [_pitch(tokens[p]) for p in slots[v + 1 :] if tokens[p] != BLANK]
                floor = max((p for p in below if p is not None), default=None)
                static = in_range & (self.pitch >= floor) if floor is not None else in_range
                if REST in fixed:
                    static = static | self.rest
                previous = layout[f - 1][v] if f > 0 else None
                self.blanks[position] = (in_range, static, slots[:v], previous)
                if f > 0:
                    others = [u for u in range(len(slots)) if u != v]
                    self.pairs[position] = (
                        [layout[f - 1][u] for u in others],
                        [slots[u] for u in others],
                    )

    def allowed(self, chosen: torch.Tensor, position: int) -> torch.Tensor:
        """[R, V] mask for ``position`` given each beam's stream so far (``chosen`` [R, n])."""
        rows = chosen.size(0)
        if not self.constraints:
            return self.voice.expand(rows, -1)
        in_range, static, above, previous = self.blanks[position]
        # A tie needs the same pitch sounding in this voice one frame earlier.
        if previous is None:
            before = torch.full((rows,), -2, device=chosen.device)  # [R]; matches no pitch
        else:
            before = self.pitch[chosen[:, previous]]  # [R]; -1 where the voice rested
        tie_ok = ~self.tied | (self.pitch == before[:, None])  # [R, V]
        allowed = static & tie_ok
        if above:
            pitches = self.pitch[chosen[:, above]]  # [R, a]; -1 where a voice above rests
            ceiling = torch.where(pitches < 0, 1000, pitches).min(dim=1).values  # [R]
            allowed = allowed & ((self.pitch <= ceiling[:, None]) | self.rest)
        if self.voice_leading and position in self.pairs:
            allowed = self._without_parallels(allowed, chosen, before, position)
        # Fixed voices can leave no room (a soprano below the alto's range): then drop the
        # order and rest rules for that beam rather than have nothing to choose.
        stuck = ~allowed.any(dim=1)  # [R]
        if bool(stuck.any()):
            allowed = torch.where(stuck[:, None], in_range & tie_ok, allowed)
        return allowed

    def _without_parallels(
        self, allowed: torch.Tensor, chosen: torch.Tensor, before: torch.Tensor, position: int
    ) -> torch.Tensor:
        """``allowed`` [R, V] less the notes that make parallels, in each beam that keeps one."""
        earlier, now = self.pairs[position]
        # Blanks not chosen yet hold BLANK, whose pitch is -1: those pairs are checked later.
        free = parallel_free(
            self.pitch, before, self.pitch[chosen[:, earlier]], self.pitch[chosen[:, now]]
        )
        strict = allowed & free
        return torch.where(strict.any(dim=1, keepdim=True), strict, allowed)


def _pitch(token: str) -> int | None:
    parsed = parse_note_token(token)
    return parsed[0] if parsed else None
