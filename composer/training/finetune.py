"""Fine-tuning the shipped language model into the length-aware composer or the harmonizer.

Both start from ``composer/checkpoints/bachbot.pt`` with new, zero-weighted inputs beside each
token (``ChoraleLSTM.grow_condition``), so epoch 0 *is* the language model, and both train on
whole chorales (START ... END, padded in batches of similar length) with teacher forcing:

* ``length``: the features of :mod:`composer.conditioning` (how far through a piece of the
  chorale's true length each token is). Validation: nats per token on the validation chorales,
  the figure ``evaluate`` reports.
* ``metre``: the length features and, beside them, where in its bar each token's frame lies
  (the chorale's own bar phase, ``composer/data/bar_phase.json``). Validated as ``length``.
* ``harmonizer``: the frame reader of :mod:`composer.harmonization.reader` learns to name each
  blanked voice token of Bach's frames from the masked piece (each chorale with a random set of
  voices blanked: three times in four one of the masks that eval-harmonization scores,
  composer.voices.MASKS; else any other proper subset). The language model is not
  trained: it is the harmonizer's decoder as it is. Validation: the reader's nats per blanked token
  over the validation chorales under each of the six masks (and how often its best guess is Bach's
  token).

Each epoch draws its order, shifts and masks from (seed, epoch) alone. The best epoch by
validation is saved (``best.pt``), and the latest (``last.pt``), with ``log.json``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from composer import checkpoint, paths
from composer.conditioning import LENGTH_FEATURES, METRE_CONDITION, stream_condition
from composer.encoding import BLANK, FRAME_END, PAD
from composer.harmonization.masks import ALL_MASKS, frame_layout
from composer.harmonization.reader import Harmonizer, frame_batch
from composer.model import ChoraleLSTM, ModelConfig
from composer.training.dataset import transpose_ids, transposition_table
from composer.training.loop import EpochLoop, start_run
from composer.training.train import evaluate
from composer.vocabulary import Vocabulary
from composer.voices import MASKS, VOICES

KINDS = ("length", "metre", "harmonizer")
# The features each kind of composer reads beside its tokens.
CONDITION_DIMS = {"length": LENGTH_FEATURES, "metre": METRE_CONDITION}


@dataclass
class FineTuneConfig:
    kind: str = "harmonizer"
    base: str = str(paths.DEFAULT_CHECKPOINT)
    epochs: int = 20
    batch_size: int = 8
    lr: float = 3e-4  # the language model's own weights
    new_lr: float = 3e-3  # the new ones: the condition's input weights and the frame reader
    lr_decay: float = 0.5  # after each epoch without a better validation score
    patience: int = 4  # stop after this many epochs without one
    grad_clip: float = 5.0
    transpose: int = 3
    eval_mask_share: float = 0.75  # harmonizer: how often a training mask is one of MASKS
    encoder_hidden: int = 192  # harmonizer: the reader's LSTM, per direction
    encoder_layers: int = 2
    # harmonizer: also read each note's pitch class, height and tie, and the frame's place in
    # its beat (HarmonizerConfig.pitch_features)
    pitch_features: bool = True
    # harmonizer: how much the reader counts against the language model, per voice S,A,T,B
    # (read off benchmarks/harmonizer_weights.py; they do not change what the reader learns)
    fusion_weights: str = "3,3,3,1.5"
    seed: int = 0
    threads: int | None = None
    max_minutes: float | None = None
    device: str = "auto"


def build_model(config: FineTuneConfig) -> tuple[nn.Module, Vocabulary]:
    """The model to fine-tune, starting as the base language model."""
    base, vocabulary, _ = checkpoint.load(config.base)
    if not isinstance(base, ChoraleLSTM) or base.config.condition_dim:
        raise ValueError(f"{config.base} is not a plain language model to start from")
    if config.kind in CONDITION_DIMS:
        return base.grow_condition(CONDITION_DIMS[config.kind]), vocabulary
    if config.kind == "harmonizer":
        model = Harmonizer.from_language_model(
            base,
            vocabulary,
            encoder_hidden=config.encoder_hidden,
            encoder_layers=config.encoder_layers,
            pitch_features=config.pitch_features,
            fusion_weights=parse_weights(config.fusion_weights),
        )
        model.decoder.requires_grad_(False)  # the language model as it is
        return model, vocabulary
    raise ValueError(f"unknown kind {config.kind!r}: use one of {', '.join(KINDS)}")


def parse_weights(text: str) -> list[float]:
    """``"2,2,2,1"`` -> one fusion weight per voice S, A, T, B."""
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        weights = []
    if len(weights) != 4 or any(w < 0 for w in weights):
        raise ValueError(f"fusion weights: four numbers >= 0 for S,A,T,B, got {text!r}")
    return weights


def split_new_parameters(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(the base language model's own parameters, the ones fine-tuning added).

    What a plain :class:`ChoraleLSTM` of the same config would not have is new (trains at
    ``new_lr``). A harmonizer trains only its reader: its decoder, the language model, is frozen.
    """
    if isinstance(model, Harmonizer):
        reader = [p for name, p in model.named_parameters() if not name.startswith("decoder.")]
        return [], reader
    plain = ModelConfig(**{**model.config.to_dict(), "condition_dim": 0})
    base_names = set(ChoraleLSTM(plain).state_dict())
    own, new = [], []
    for name, parameter in model.named_parameters():
        (own if name in base_names else new).append(parameter)
    return own, new


def _padded(streams: Sequence[Sequence[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in streams)
    ids = torch.full((len(streams), width), pad, dtype=torch.long)
    for row, stream in enumerate(streams):
        ids[row, : len(stream)] = torch.as_tensor(stream, dtype=torch.long)
    return ids


def _masked(ids: list[int], layout: list[list[int]], voices: list[int], blank: int) -> list[int]:
    masked = list(ids)
    for slots in layout:
        for v in voices:
            masked[slots[v]] = blank
    return masked


def batch_loss(
    model: nn.Module,
    vocabulary: Vocabulary,
    streams: Sequence[list[int]],
    layouts: Sequence[list[list[int]]] | None,
    masks: Sequence[list[int]] | None,
    device: torch.device,
    phases: Sequence[int] | None = None,
) -> tuple[torch.Tensor, int]:
    """Summed cross-entropy (nats) of a batch of whole chorales, and the tokens it covers.

    A length- or metre-aware model: every token after START (``phases``: each stream's bar phase,
    for the metre). A harmonizer's reader: every blanked voice token (``masks``: the blanked
    voices of each stream).
    """
    if isinstance(model, Harmonizer):
        logits, truth = reader_outputs(model, vocabulary, streams, layouts, masks, device)
        return nn.functional.cross_entropy(logits, truth, reduction="sum"), truth.numel()
    pad, frame_end = vocabulary.id(PAD), vocabulary.id(FRAME_END)
    ids = _padded(streams, pad).to(device)  # [B, T]
    phase = None if phases is None else torch.tensor(list(phases), device=device)  # [B]
    condition = stream_condition(ids, frame_end, pad, model.config.condition_dim, phase)
    logits, _ = model(ids[:, :-1], None, condition[:, :-1])  # features [B, T-1, 3 or 9]
    targets = ids[:, 1:]
    loss = nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=pad, reduction="sum"
    )
    return loss, int((targets != pad).sum())


def reader_outputs(
    model: Harmonizer,
    vocabulary: Vocabulary,
    streams: Sequence[list[int]],
    layouts: Sequence[list[list[int]]],
    masks: Sequence[list[int]],
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reader on the masked streams, at the blanked slots only: (logits [K, V], Bach's
    tokens [K])."""
    blank = vocabulary.id(BLANK)
    masked = [_masked(s, lay, m, blank) for s, lay, m in zip(streams, layouts, masks, strict=True)]
    truth = frame_batch(streams, layouts, vocabulary, device).voices  # [B, F, 4]
    logits = model.frame_logits(frame_batch(masked, layouts, vocabulary, device))
    blanked = torch.zeros_like(truth, dtype=torch.bool)
    for row, (layout, voices) in enumerate(zip(layouts, masks, strict=True)):
        blanked[row, : len(layout), voices] = True
    return logits[blanked], truth[blanked]


@torch.no_grad()
def validate(
    model: nn.Module,
    vocabulary: Vocabulary,
    chorales: Sequence[list[int]],
    device: torch.device,
    batch_size: int = 16,
    phases: Sequence[int] | None = None,
) -> dict:
    """Length or metre model (``phases``: the chorales' bar phases): nats/token. Harmonizer: its
    reader's nats per blanked token (per mask and on average) and how often its best guess misses
    Bach's token."""
    model.eval()
    if not isinstance(model, Harmonizer):  # the figure `python -m composer evaluate` prints
        scores = evaluate(model, chorales, vocabulary, device, phases=phases)
        return {"validation_loss": scores["loss_per_token"]}
    order = sorted(range(len(chorales)), key=lambda i: len(chorales[i]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    layouts = [frame_layout(vocabulary.decode(c)) for c in chorales]
    scores, misses = {}, {}
    for mask in MASKS:
        voices = [VOICES.index(v) for v in mask]
        total, wrong, count = 0.0, 0, 0
        for batch in batches:
            logits, truth = reader_outputs(
                model,
                vocabulary,
                [chorales[i] for i in batch],
                [layouts[i] for i in batch],
                [voices] * len(batch),
                device,
            )
            total += nn.functional.cross_entropy(logits, truth, reduction="sum").item()
            wrong += int((logits.argmax(-1) != truth).sum())
            count += truth.numel()
        scores[mask] = round(total / count, 5)
        misses[mask] = round(wrong / count, 4)
    return {
        "validation_loss": sum(scores.values()) / len(scores),
        "per_mask": scores,
        "reader_error_rate": misses,
    }


def _epoch_batches(
    chorales: Sequence[list[int]], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Shuffled batches of chorales of similar length (less padding, same data each epoch)."""
    order = list(range(len(chorales)))
    rng.shuffle(order)
    pool = batch_size * 8
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(chorales[i]))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _draw_mask(rng: random.Random, eval_share: float) -> list[int]:
    if rng.random() < eval_share:
        return [VOICES.index(v) for v in rng.choice(MASKS)]
    return rng.choice(ALL_MASKS)


def finetune(
    config: FineTuneConfig,
    train_chorales: Sequence[list[int]],
    validation_chorales: Sequence[list[int]],
    out_dir: Path,
    progress: bool = True,
    phases: tuple[Sequence[int], Sequence[int]] | None = None,
) -> dict:
    """Fine-tune; returns the best epoch's log entry. Writes best.pt, last.pt and log.json.

    ``phases``: the bar phases of the (training, validation) chorales, which ``metre`` needs.
    """
    if config.kind == "metre" and phases is None:
        raise ValueError("fine-tuning kind 'metre' needs the chorales' bar phases")
    train_phases, validation_phases = phases or (None, None)
    out_dir, device = start_run(out_dir, config.threads, config.seed, config.device)
    model, vocabulary = build_model(config)
    model.to(device)
    layouts = [frame_layout(vocabulary.decode(c)) for c in train_chorales]  # survive transposing
    tables = {
        s: transposition_table(vocabulary, s)
        for s in range(-config.transpose, 1 + config.transpose)
    }
    old, new = split_new_parameters(model)
    optimizer = torch.optim.Adam(
        [{"params": old, "lr": config.lr}, {"params": new, "lr": config.new_lr}]
    )
    start = {
        "epoch": 0,
        **validate(model, vocabulary, validation_chorales, device, phases=validation_phases),
        "lr": config.lr,
    }
    if progress:
        print(json.dumps(start), flush=True)
    loop = EpochLoop(out_dir, vocabulary, asdict(config), config.seed, progress, [start])
    lr = config.lr
    for epoch, rng in loop.epochs(1, config.epochs, config.patience, config.max_minutes):
        model.train()
        optimizer.param_groups[0]["lr"] = lr
        optimizer.param_groups[1]["lr"] = lr * config.new_lr / config.lr
        epoch_start = time.monotonic()
        batches = _epoch_inputs(train_chorales, layouts, tables, config, rng, train_phases)
        bar = tqdm(batches, desc=f"{config.kind} epoch {epoch}", disable=not progress)
        train_loss = _train_epoch(model, optimizer, vocabulary, bar, config.grad_clip, device)
        scores = validate(model, vocabulary, validation_chorales, device, phases=validation_phases)
        entry = {
            "epoch": epoch,
            "train_loss": round(train_loss, 5),
            **scores,
            "lr": lr,
            "seconds": round(time.monotonic() - epoch_start, 1),
        }
        # last.pt too: a length-aware model is chosen by how its pieces end as well
        if not loop.record(entry, scores["validation_loss"], model, model):
            lr *= config.lr_decay
    return loop.best_entry


def _epoch_inputs(
    chorales: Sequence[list[int]],
    layouts: Sequence[list[list[int]]],
    tables: dict[int, list[int | None]],
    config: FineTuneConfig,
    rng: random.Random,
    phases: Sequence[int] | None = None,
) -> list[tuple[list[list[int]], list[list[list[int]]], list[list[int]], list[int] | None]]:
    """The epoch's batches, each as (chorales shifted by a random interval, their frame layouts,
    the voices blanked in each, their bar phases when ``phases`` are given)."""
    batches = []
    for batch in _epoch_batches(chorales, config.batch_size, rng):
        streams, masks = [], []
        for i in batch:
            shifted = transpose_ids(
                chorales[i], tables[rng.randint(-config.transpose, config.transpose)]
            )
            streams.append(shifted if shifted is not None else chorales[i])
            masks.append(_draw_mask(rng, config.eval_mask_share))
        chosen = None if phases is None else [phases[i] for i in batch]
        batches.append((streams, [layouts[i] for i in batch], masks, chosen))
    return batches


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    vocabulary: Vocabulary,
    batches: tqdm,
    grad_clip: float,
    device: torch.device,
) -> float:
    """One pass over the epoch's ``batches`` (a progress bar over :func:`_epoch_inputs`); the
    mean loss per token it covered, in nats."""
    total, count = 0.0, 0
    for streams, layouts, masks, phases in batches:
        loss, n = batch_loss(model, vocabulary, streams, layouts, masks, device, phases)
        optimizer.zero_grad(set_to_none=True)
        (loss / n).backward()
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        total, count = total + loss.item(), count + n
        batches.set_postfix(
            loss=f"{total / count:.3f}", lr=f"{optimizer.param_groups[0]['lr']:.1e}"
        )
    return total / count
