"""Free composition: sample whole chorales from START, all of a batch at once on the device.

Ancestral sampling with a temperature (and the options of :mod:`composer.decoding`: nucleus,
a hold temperature, voice-leading rules). By default the sampler obeys the encoding's frame grammar
(:mod:`composer.grammar`: four voice tokens a frame, ties only onto the same pitch, END only at a
frame boundary and not before ``min_frames``); the model chooses every note, rest, fermata and the
end. ``grammar=False`` samples the raw model, as BachBot did. A piece is valid when it ends with
END within ``max_frames``, decodes without error, every voice sings, and its length is between
``min_frames`` and ``max_frames`` (BachBot kept 100-400 frames). Invalid pieces are rejected and
replaced by fresh draws; the count and the reasons are reported.

A length-aware model (``condition_dim`` 3, from ``python -m composer finetune --kind length``) is
also told, at every token, how far through a piece of a target length it is
(:mod:`composer.conditioning`). Each piece's target is drawn, with the seed, from the lengths of
the training chorales that lie within ``min_frames``-``max_frames`` (``composer/data/
train_frames.json``; 301 of 316), or given as ``lengths``. The model, not the sampler, still
decides where the piece ends: END is drawn at the model's own probability.

A metre-aware model (``condition_dim`` 9, ``finetune --kind metre``) is also told where in its bar
each frame lies: each piece's bar phase is drawn with the same seed from the same training
chorale as its length (:func:`composer.metre.draw_phases`), or given as ``phases``.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from composer.conditioning import BAR_FRAMES, LENGTH_FEATURES, METRE_CONDITION, StepConditions
from composer.decoding import DEFAULT_DECODING, Decoding
from composer.encoding import DATA_DIR, END, EncodingError, tokens_to_chorale
from composer.grammar import FrameGrammar
from composer.harmonization.reader import Harmonizer
from composer.metre import draw_phases
from composer.model import ChoraleLSTM
from composer.sampling_loop import SamplingLoop
from composer.stepping import Stepper, native_lstm_kernels
from composer.vocabulary import Vocabulary

MIN_FRAMES = 100
MAX_FRAMES = 400
TRAIN_FRAMES_PATH = DATA_DIR / "train_frames.json"


def is_length_aware(model: ChoraleLSTM) -> bool:
    config = getattr(model, "config", None)
    return getattr(config, "condition_dim", 0) == LENGTH_FEATURES


def is_metre_aware(model: ChoraleLSTM) -> bool:
    """Reads the length features and the bar's (``finetune --kind metre``)."""
    config = getattr(model, "config", None)
    return getattr(config, "condition_dim", 0) == METRE_CONDITION


@functools.cache
def _training_lengths() -> tuple[int, ...]:
    """Frames of each training chorale, sorted (read once: every sampling call draws from it)."""
    return tuple(sorted(json.loads(TRAIN_FRAMES_PATH.read_text()).values()))


def draw_lengths(
    n: int, seed: int, min_frames: int = MIN_FRAMES, max_frames: int = MAX_FRAMES
) -> list[int]:
    """``n`` target lengths in frames, drawn with ``seed`` from Bach's training chorales."""
    usable = [f for f in _training_lengths() if min_frames <= f <= max_frames]
    if not usable:
        raise ValueError(f"no training chorale is {min_frames}-{max_frames} frames long")
    return random.Random(seed).choices(usable, k=n)


class TooFewValid(RuntimeError):
    """Sampling gave up: too many pieces were rejected (an untrained or unsuitable checkpoint)."""


@dataclass
class Draws:
    """Valid pieces of a sampling run, and what they cost."""

    pieces: list[list[str]] = field(default_factory=list)
    drawn: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # rejections by the reason's first part
    first_batch_valid: int = 0  # valid pieces of the first round, before any replacement

    def reject(self, reason: str) -> None:
        key = reason.split(":")[0]
        self.reasons[key] = self.reasons.get(key, 0) + 1
        self.rejected += 1

    def merge(self, other: Draws) -> None:
        self.pieces += other.pieces
        self.drawn += other.drawn
        self.rejected += other.rejected
        for key, count in other.reasons.items():
            self.reasons[key] = self.reasons.get(key, 0) + count


@torch.no_grad()
def sample_tokens(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    *,
    temperature: float = 0.8,
    seed: int = 0,
    min_frames: int = MIN_FRAMES,
    max_frames: int = MAX_FRAMES,
    grammar: bool = True,
    lengths: Sequence[int] | None = None,
    phases: Sequence[int] | None = None,
    decoding: Decoding = DEFAULT_DECODING,
) -> list[list[str]]:
    """``n`` token streams from START until END or ``max_frames + 1`` frames (unvalidated).

    ``lengths``: target frames per piece for a length- or metre-aware model, ``phases``: bar
    phases for a metre-aware one (default: drawn, see above). ``decoding``: top-p, the hold
    temperature and the voice-leading rules (composer.decoding).
    """
    loop = _sampling_loop(
        model, vocabulary, n, temperature, seed, min_frames, max_frames, grammar, lengths,
        phases, decoding,
    )  # fmt: skip
    with native_lstm_kernels(loop.generator.device):
        ids = loop.run(Stepper(model), n, min_frames, max_frames)
    return [_row_tokens(vocabulary, row) for row in ids]


@torch.no_grad()
def sample_each(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    take: Callable[[list[str]], bool],
    *,
    temperature: float = 0.8,
    seed: int = 0,
    min_frames: int = MIN_FRAMES,
    max_frames: int = MAX_FRAMES,
    grammar: bool = True,
    decoding: Decoding = DEFAULT_DECODING,
) -> int:
    """Sample ``n`` streams at once as :func:`sample_tokens` does, handing each to ``take`` the
    moment it ends (END, or past ``max_frames``: unvalidated), in the order they end (streams
    ending on one token in row order), and stop as soon as ``take`` returns True (enough).
    Returns how many streams ``take`` was handed.

    A caller that needs a few pieces from a batch need not wait for its longest stream (a
    piece that never ends runs the batch to its 400-frame limit), and can use each piece while
    the others are still being drawn. A stream that ended with END is the same stream
    sample_tokens gives with the same arguments.
    """
    loop = _sampling_loop(
        model, vocabulary, n, temperature, seed, min_frames, max_frames, grammar, None, None,
        decoding,
    )  # fmt: skip
    handed = 0

    def on_end(_row: int, ids: list[int]) -> bool:
        nonlocal handed
        handed += 1
        return take(_row_tokens(vocabulary, ids))

    with native_lstm_kernels(loop.generator.device):
        loop.run(Stepper(model), n, min_frames, max_frames, on_end)
    return handed


def _sampling_loop(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    temperature: float,
    seed: int,
    min_frames: int,
    max_frames: int,
    grammar: bool,
    lengths: Sequence[int] | None,
    phases: Sequence[int] | None,
    decoding: Decoding,
) -> SamplingLoop:
    """The loop that samples ``n`` streams from ``model`` (in eval mode), seeded by ``seed``."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    if isinstance(model, Harmonizer):
        raise ValueError(
            f"a {type(model).__name__} fills voices under fixed ones and cannot compose freely: "
            "use a language model checkpoint such as composer/checkpoints/bachbot_length.pt"
        )
    device = next(model.parameters()).device
    model.eval()
    conditions = None
    # [n] bar phases, for a metre-aware model and for the metre rules (drawn with the lengths).
    bar_phases = None
    if is_metre_aware(model) or (grammar and decoding.metre_rules):
        bar_phases = _phases(n, seed, min_frames, max_frames, phases).to(device)
    if is_length_aware(model) or is_metre_aware(model):
        targets = _lengths(n, seed, min_frames, max_frames, lengths).to(device)  # [n]
        conditions = StepConditions(targets, bar_phases if is_metre_aware(model) else None)
    return SamplingLoop(
        vocabulary,
        FrameGrammar.shared(vocabulary, device, decoding.voice_leading) if grammar else None,
        conditions,
        temperature,
        decoding,
        torch.Generator(device=device).manual_seed(seed),
        bar_phases.tolist() if bar_phases is not None and decoding.metre_rules else None,
    )


def _row_tokens(vocabulary: Vocabulary, ids: list[int]) -> list[str]:
    """A row's tokens up to and with its END (all of them when it has none)."""
    end = vocabulary.id(END)
    return vocabulary.decode(ids[: ids.index(end) + 1] if end in ids else ids)


def _lengths(
    n: int, seed: int, min_frames: int, max_frames: int, lengths: Sequence[int] | None
) -> torch.Tensor:
    """[n] target lengths in frames for a length- or metre-aware model: given, or drawn."""
    lengths = draw_lengths(n, seed, min_frames, max_frames) if lengths is None else lengths
    if len(lengths) != n or min(lengths) < 1:
        raise ValueError(f"need {n} positive target lengths, got {list(lengths)}")
    return torch.tensor(list(lengths))


def _phases(
    n: int, seed: int, min_frames: int, max_frames: int, phases: Sequence[int] | None
) -> torch.Tensor:
    """[n] bar phases for a metre-aware model: given, or drawn as its lengths are."""
    phases = draw_phases(n, seed, min_frames, max_frames) if phases is None else list(phases)
    if len(phases) != n:
        raise ValueError(f"need {n} bar phases, got {len(phases)}")
    return torch.tensor(phases) % BAR_FRAMES


def rejection_reason(
    tokens: list[str], min_frames: int = MIN_FRAMES, max_frames: int = MAX_FRAMES
) -> str | None:
    """Why a sampled stream is not a usable chorale, or None when it is one."""
    if not tokens or tokens[-1] != END:
        return "no END within the frame limit"
    try:
        chorale = tokens_to_chorale(tokens)
    except EncodingError as error:
        return f"malformed: {error}"
    if not min_frames <= chorale.frames <= max_frames:
        return f"length {chorale.frames} frames outside {min_frames}-{max_frames}"
    if any(not voice for voice in chorale.voices):
        return "a voice never sings"
    return None


def compose(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    *,
    temperature: float = 0.8,
    seed: int = 0,
    **options,
) -> list[list[str]]:
    """``n`` valid chorales as token lists; identical for the same model, arguments and seed.

    ``options`` are :func:`compose_with_report`'s (frame limits, rounds, grammar, decoding).
    """
    return compose_with_report(
        model, vocabulary, n, temperature=temperature, seed=seed, **options
    ).pieces


def draw_valid(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    *,
    temperature: float,
    round_seed: Callable[[int], int],
    round_size: Callable[[int], int],
    min_frames: int = MIN_FRAMES,
    max_frames: int = MAX_FRAMES,
    max_rounds: int = 20,
    grammar: bool = True,
    rule: Callable[[list[str]], str | None] | None = None,
    decoding: Decoding = DEFAULT_DECODING,
) -> Draws:
    """``n`` valid chorales, sampled in rounds: round r draws ``round_size(missing)`` pieces
    seeded by ``round_seed(r)``. A piece is kept unless :func:`rejection_reason` or the caller's
    ``rule`` gives a reason; draws beyond the n-th valid piece are left unexamined and uncounted.
    Raises TooFewValid after ``max_rounds``."""
    draws = Draws()
    for round_number in range(max_rounds):
        batch = sample_tokens(
            model,
            vocabulary,
            round_size(n - len(draws.pieces)),
            temperature=temperature,
            seed=round_seed(round_number),
            min_frames=min_frames,
            max_frames=max_frames,
            grammar=grammar,
            decoding=decoding,
        )
        for tokens in batch:
            if len(draws.pieces) == n:
                break
            draws.drawn += 1
            reason = rejection_reason(tokens, min_frames, max_frames)
            if reason is None and rule is not None:
                reason = rule(tokens)
            if reason is None:
                draws.pieces.append(tokens)
            else:
                draws.reject(reason)
        if round_number == 0:
            draws.first_batch_valid = len(draws.pieces)
        if len(draws.pieces) == n:
            return draws
    raise TooFewValid(
        f"only {len(draws.pieces)} of {n} valid chorales after {draws.drawn} draws "
        f"({draws.reasons}); is the checkpoint trained?"
    )


def compose_with_report(
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    n: int,
    *,
    temperature: float = 0.8,
    seed: int = 0,
    min_frames: int = MIN_FRAMES,
    max_frames: int = MAX_FRAMES,
    max_rounds: int = 20,
    grammar: bool = True,
    decoding: Decoding = DEFAULT_DECODING,
) -> Draws:
    """Like :func:`compose`, also counting rejected draws and why they were rejected."""
    # Round 0 draws exactly n (so the rejection rate is measured on one clean batch); later rounds
    # draw what is missing, each from its own seed so the whole run is reproducible.
    return draw_valid(
        model,
        vocabulary,
        n,
        temperature=temperature,
        round_seed=lambda round_number: seed * 1000 + round_number,
        round_size=lambda missing: missing,
        min_frames=min_frames,
        max_frames=max_frames,
        max_rounds=max_rounds,
        grammar=grammar,
        decoding=decoding,
    )
