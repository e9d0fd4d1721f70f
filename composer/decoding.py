"""How one token is drawn from the model's logits when composing freely.

* **END** is drawn at the model's own probability (temperature 1). Sharpening END too would
  stretch every piece: at 0.8 the samples ran to a median of 260 frames against Bach's 192.
* **Temperature** divides the other logits. A voice's choice between holding its note (the
  tied token) and sounding something new is made at ``hold_temperature`` (by default 1: the
  model's own rate, like END), and *which* new note at ``temperature``: at 0.8 alone the
  network's rhythm was too plain (eighth notes 6% of soprano notes against Bach's 19%) and at 1.0
  its lines drifted, so the two are set apart. The machine judge found 0.8 with holds at 1.0
  the hardest setting to tell from Bach (``benchmarks/judge_temperature.py``, docs/results.md).
  ``hold_temperature=None`` (or equal to the temperature) is one softmax at one temperature.
* **Nucleus (top-p)**: only the most likely tokens whose probabilities reach ``top_p`` together
  may be drawn (always at least one).
* **Voice leading** (:mod:`composer.voice_leading`): on by default, in the grammar's mask.
* **Metre rules** (off by default, :mod:`composer.grammar`): at each piece's bar phase, a fermata
  begins only on beat 1 or 3 and no note is held over a bar line. They put those two counts at
  Bach's rates, but the machine judge tells such pieces more often, not less (docs/results.md).

``Decoding`` holds the settings other than the temperature; :meth:`Decoding.record` is what a
piece stores beside its temperature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch

from composer.voice_leading import RULES

METRE_RULES = {"fermata_starts": "beat 1 or 3", "ties_over_bar_line": "forbidden"}

if TYPE_CHECKING:
    from composer.grammar import StepMasks


@dataclass(frozen=True)
class Decoding:
    top_p: float = 1.0
    hold_temperature: float | None = 1.0  # None: the temperature itself
    voice_leading: bool = True
    metre_rules: bool = False  # fermatas begin on beat 1 or 3, no note held over a bar line

    def __post_init__(self) -> None:
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.hold_temperature is not None and self.hold_temperature <= 0:
            raise ValueError(f"hold temperature must be positive, got {self.hold_temperature}")

    def record(self, temperature: float) -> dict:
        """The settings a piece was drawn with, rule set included, for its provenance."""
        settings = asdict(self)
        settings["temperature"] = temperature
        settings["rules"] = dict(RULES) if self.voice_leading else {}
        if self.metre_rules:
            settings["rules"].update(METRE_RULES)
        return settings


DEFAULT_DECODING = Decoding()


def draw(
    logits: torch.Tensor,
    masks: StepMasks | None,
    *,
    temperature: float,
    decoding: Decoding,
    end: int,
    tied: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """One token per row, [n, 1], from ``logits`` [n, V]; ``masks`` (or None) forbid what the
    grammar forbids; ``tied`` [V] marks the tokens that hold a voice's note.

    The generator is drawn from in the same order whatever the masks say (n uniforms for END,
    then n x V for the token), so that a seed gives the same pieces with shortcuts or without:
    where no row may end or hold, the arithmetic that would change nothing is skipped.
    """
    n = len(logits)
    if masks is not None:
        logits = logits.masked_fill(masks.forbidden, float("-inf"))
    else:
        logits = logits.clone()  # END is masked below, in place
    uniform = torch.rand(n, generator=generator, device=logits.device)
    stop = None
    if masks is None or masks.end_possible:  # else END is masked already in every row
        stop = uniform < torch.softmax(logits, dim=-1)[:, end]  # [n]
        logits[:, end] = float("-inf")
    if masks is None:
        # A row whose only allowed token is END (never in a grammar-bound stream) still gets one.
        stuck = torch.isinf(logits).all(dim=-1)
        logits[stuck, end] = 0.0
        log_probs = _tempered(logits, temperature, decoding.hold_temperature, tied)  # [n, V]
    elif masks.tie_index is None:
        # No row may hold a note: the mix is the note temperature's softmax alone.
        log_probs = _tempered(logits, temperature, None, tied)
    else:
        log_probs = _tempered(logits, temperature, decoding.hold_temperature, tied, masks.tie_index)
    if decoding.top_p < 1:
        log_probs = _nucleus(log_probs, decoding.top_p)
    drawn = _race(log_probs.exp(), generator)  # [n, 1]
    if stop is None:
        return drawn
    return torch.where(stop[:, None], torch.full_like(drawn, end), drawn)


def _race(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row of ``probs`` [n, V], as ``torch.multinomial(probs, 1)`` draws it.

    That is an exponential race (the Gumbel trick: argmax p / q, q ~ Exp(1), ATen's
    Distributions.cpp), here without multinomial's checks of its argument, which cost more than
    the race itself one token at a time (four reductions and two reads back to the host); these
    probabilities are finite and sum to 1 by construction. The same generator calls in the same
    order give the same draws (tests/composer/test_sampling_pins.py holds that to the token).
    """
    q = torch.empty_like(probs).exponential_(1, generator=generator)  # [n, V]
    return torch.div(probs, q, out=q).argmax(dim=-1, keepdim=True)  # [n, 1]


def _divided(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / temperature``; at 1 the logits themselves (the same numbers, one call less)."""
    return logits if temperature == 1 else logits / temperature


def _tempered(
    logits: torch.Tensor,
    temperature: float,
    hold_temperature: float | None,
    tied: torch.Tensor,
    tie_index: torch.Tensor | None = None,
) -> torch.Tensor:
    """[n, V] log-probabilities: one temperature, or hold-or-attack and the note apart.

    ``tie_index`` [n, 1]: where each row may hold at most one tied token (the grammar's streams),
    that token, or one whose logit is -inf; the probability of holding is then read there
    rather than summed over the vocabulary, and every row has a new note to attack.
    """
    if hold_temperature is None or hold_temperature == temperature:
        return torch.log_softmax(_divided(logits, temperature), dim=-1)
    at_hold = torch.log_softmax(_divided(logits, hold_temperature), dim=-1)
    # [n, 1]: probability of holding, drawn at the hold temperature (0 where no tie is allowed).
    if tie_index is None:
        p_hold = at_hold.masked_fill(~tied, float("-inf")).logsumexp(dim=-1)[:, None]
    else:
        p_hold = at_hold.gather(1, tie_index)  # the one finite term of that sum, exactly
    attack_logits = _divided(logits, temperature).masked_fill(tied, float("-inf"))
    attack = torch.log_softmax(attack_logits, dim=-1)  # [n, V]: which new token
    p_attack = torch.log1p(-p_hold.exp().clamp(max=1 - 1e-7))  # [n, 1]
    mixed = torch.where(tied, at_hold, attack + p_attack)  # [V] masks broadcast over the rows
    if tie_index is not None:
        return mixed
    # Rows with nothing but ties allowed (no attack possible) hold with certainty.
    only_ties = torch.isinf(attack).all(dim=-1)
    return torch.where(only_ties[:, None], at_hold, mixed)


def _nucleus(log_probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches ``top_p``: [n, V]."""
    sorted_lp, order = log_probs.sort(dim=-1, descending=True)
    before = sorted_lp.exp().cumsum(dim=-1) - sorted_lp.exp()  # mass of the tokens ahead
    drop_sorted = before >= top_p  # the first token always stays (nothing ahead of it)
    drop = torch.zeros_like(drop_sorted).scatter(1, order, drop_sorted)
    return torch.log_softmax(log_probs.masked_fill(drop, float("-inf")), dim=-1)
