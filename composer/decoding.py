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

``Decoding`` holds the settings other than the temperature; :meth:`Decoding.record` is what a
piece stores beside its temperature.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from composer.voice_leading import RULES


@dataclass(frozen=True)
class Decoding:
    top_p: float = 1.0
    hold_temperature: float | None = 1.0  # None: the temperature itself
    voice_leading: bool = True

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
        return settings


DEFAULT_DECODING = Decoding()


def draw(
    logits: torch.Tensor,
    allowed: torch.Tensor | None,
    *,
    temperature: float,
    decoding: Decoding,
    end: int,
    tied: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """One token per row, [n, 1], from ``logits`` [n, V]; ``allowed`` [n, V] (or None) masks
    the grammar; ``tied`` [V] marks the tokens that hold a voice's note."""
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    p_end = torch.softmax(logits, dim=-1)[:, end]  # [n]
    stop = torch.rand(len(logits), generator=generator, device=logits.device) < p_end
    logits = logits.clone()
    logits[:, end] = float("-inf")
    # A row whose only allowed token is END (never in a grammar-bound stream) still gets one.
    stuck = torch.isinf(logits).all(dim=-1)
    logits[stuck, end] = 0.0
    log_probs = _tempered(logits, temperature, decoding.hold_temperature, tied)  # [n, V]
    if decoding.top_p < 1:
        log_probs = _nucleus(log_probs, decoding.top_p)
    drawn = torch.multinomial(log_probs.exp(), 1, generator=generator)  # [n, 1]
    return torch.where(stop[:, None], torch.full_like(drawn, end), drawn)


def _tempered(
    logits: torch.Tensor, temperature: float, hold_temperature: float | None, tied: torch.Tensor
) -> torch.Tensor:
    """[n, V] log-probabilities: one temperature, or hold-or-attack and the note apart."""
    plain = torch.log_softmax(logits / temperature, dim=-1)
    if hold_temperature is None or hold_temperature == temperature:
        return plain
    at_hold = torch.log_softmax(logits / hold_temperature, dim=-1)
    # [n]: probability of holding, drawn at the hold temperature (0 where no tie is allowed).
    p_hold = at_hold.masked_fill(~tied[None, :], float("-inf")).logsumexp(dim=-1)
    attack_logits = (logits / temperature).masked_fill(tied[None, :], float("-inf"))
    attack = torch.log_softmax(attack_logits, dim=-1)  # [n, V]: which new token
    p_attack = torch.log1p(-p_hold.exp().clamp(max=1 - 1e-7))  # [n]
    mixed = torch.where(tied[None, :], at_hold, attack + p_attack[:, None])
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
