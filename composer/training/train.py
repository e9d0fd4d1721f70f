"""Training: teacher forcing, truncated BPTT, validation each epoch, early stopping, checkpoints.

The loss is cross-entropy in nats per token. Validation scores each held-out chorale from its
START with a fresh state (padding ignored), so the figure does not depend on batch layout; it is
also reported per sixteenth-note frame (total nats / frames).
"""

from __future__ import annotations

import csv
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from composer import checkpoint
from composer.conditioning import stream_condition
from composer.encoding import FRAME_END, PAD
from composer.model import ChoraleLSTM, ModelConfig
from composer.training.dataset import batchify, epoch_stream, windows
from composer.training.loop import EpochLoop, start_run
from composer.vocabulary import Vocabulary, load_vocabulary


@dataclass
class TrainConfig:
    # model (BachBot's best by default)
    embedding_dim: int = 32
    hidden_size: int = 256
    num_layers: int = 3
    dropout: float = 0.3
    layer_norm: bool = False
    # optimisation
    seq_len: int = 128
    batch_size: int = 50
    lr: float = 2e-3
    # "step": x lr_decay every lr_decay_every epochs (from lr_decay_start);
    # "plateau": x lr_decay after every lr_decay_every epochs without improvement.
    lr_schedule: str = "step"
    lr_decay: float = 0.5
    lr_decay_every: int = 5
    lr_decay_start: int = 0  # step schedule: keep lr constant until this epoch, then decay
    weight_decay: float = 0.0
    # Weight averaging (SWA): from this epoch on (0: never) train at swa_lr and validate, keep
    # and ship the running average of the weights at the end of each epoch.
    swa_start: int = 0
    swa_lr: float = 2.5e-4
    grad_clip: float = 5.0
    epochs: int = 30
    patience: int = 5  # early stopping: epochs without a better validation loss
    transpose: int = (
        0  # augmentation: each epoch moves each chorale by a random shift in ±transpose
    )
    max_minutes: float | None = None  # stop after the epoch that passes this wall-clock budget
    seed: int = 0
    threads: int | None = None
    device: str = "auto"

    def model_config(self, vocab_size: int) -> ModelConfig:
        return ModelConfig(
            vocab_size,
            self.embedding_dim,
            self.hidden_size,
            self.num_layers,
            self.dropout,
            self.layer_norm,
        )

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}")
        return cls(**values)


@dataclass
class TrainResult:
    best_validation_loss: float
    best_epoch: int
    history: list[dict]
    best_path: Path


@torch.no_grad()
def evaluate(
    model: ChoraleLSTM,
    chorales: Sequence[list[int]],
    vocabulary: Vocabulary,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
    phases: Sequence[int] | None = None,
) -> dict:
    """Loss over whole chorales, each from START with a fresh state: nats/token, /frame, e^loss.

    ``phases``: each chorale's bar phase, which a metre-aware model is told (with its length).
    """
    model.eval()
    pad, frame_end = vocabulary.id(PAD), vocabulary.id(FRAME_END)
    total, tokens, frames = 0.0, 0, 0
    order = sorted(range(len(chorales)), key=lambda i: len(chorales[i]))
    for start in range(0, len(order), batch_size):
        batch = [chorales[i] for i in order[start : start + batch_size]]
        width = max(len(c) for c in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        for row, chorale in enumerate(batch):
            ids[row, : len(chorale)] = torch.tensor(chorale)
        ids = ids.to(device)
        chosen = order[start : start + batch_size]
        phase = None if phases is None else torch.tensor([phases[i] for i in chosen], device=device)
        # A conditioned model is told each chorale's true length (and phase): [B, T-1, 3 or 9]
        condition = stream_condition(ids, frame_end, pad, model.config.condition_dim, phase)
        if condition is not None:
            condition = condition[:, :-1]
        logits, _ = model(ids[:, :-1], None, condition)  # [B, T-1, V]
        targets = ids[:, 1:]
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)),
            targets.reshape(-1),
            ignore_index=pad,
            reduction="sum",
        )
        total += loss.item()
        tokens += int((targets != pad).sum())
        frames += int((targets == frame_end).sum())
    per_token = total / tokens
    return {
        "loss_per_token": per_token,
        "loss_per_frame": total / frames,
        "perplexity": math.exp(per_token),
        "tokens": tokens,
        "frames": frames,
        "chorales": len(chorales),
    }


def _step_decays(epoch: int, config: TrainConfig) -> bool:
    """Whether the step schedule lowers the rate after ``epoch``."""
    since = epoch - config.lr_decay_start
    return since >= 0 and since % config.lr_decay_every == 0 and epoch > 0


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _write_csv_and_plot(history: list[dict], out_dir: Path) -> None:
    """``log.csv`` and ``learning_curve.png`` beside the loop's ``log.json``."""
    with open(out_dir / "log.csv", "w", newline="") as handle:
        # Fields can be added during a run (e.g. when weight averaging starts): take them all.
        fieldnames = list(dict.fromkeys(k for entry in history for k in entry))
        writer = csv.DictWriter(handle, fieldnames=fieldnames, restval="")
        writer.writeheader()
        writer.writerows(history)
    plot_learning_curve(history, out_dir / "learning_curve.png")


def plot_learning_curve(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    ax.plot(epochs, [h["validation_loss"] for h in history], marker="o", label="validation")
    ax.axhline(0.477, color="grey", linestyle="--", label="BachBot validation (0.477)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title("Learning curve")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(
    config: TrainConfig,
    train_chorales: Sequence[list[int]],
    validation_chorales: Sequence[list[int]],
    out_dir: Path,
    vocabulary: Vocabulary | None = None,
    resume: Path | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train, keeping ``best.pt`` (lowest validation loss) and ``last.pt`` (for resuming)."""
    vocabulary = vocabulary or load_vocabulary()
    out_dir, device = start_run(out_dir, config.threads, config.seed, config.device)
    model = ChoraleLSTM(config.model_config(len(vocabulary))).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    averaged = AveragedModel(model) if config.swa_start else None
    history, first_epoch, lr = [], 1, config.lr
    if resume is not None:
        history, first_epoch, lr = _resume(resume, device, model, optimizer, averaged, lr)
    loop = EpochLoop(out_dir, vocabulary, asdict(config), config.seed, progress, history)
    for epoch, rng in loop.epochs(first_epoch, config.epochs, config.patience, config.max_minutes):
        averaging = averaged is not None and epoch >= config.swa_start
        if averaging:
            lr = config.swa_lr
        _set_lr(optimizer, lr)
        model.train()
        stream = epoch_stream(train_chorales, vocabulary, rng, config.transpose)
        rows = batchify(stream, config.batch_size).to(device)
        bar = f"epoch {epoch}" if progress else None
        total_loss, total_tokens, seconds = _train_epoch(model, optimizer, rows, config, lr, bar)
        scored = model
        if averaging:
            averaged.update_parameters(model)
            scored = averaged.module
        scores = evaluate(scored, validation_chorales, vocabulary, device)
        entry = {
            "epoch": epoch,
            "train_loss": round(total_loss / total_tokens, 5),
            "validation_loss": round(scores["loss_per_token"], 5),
            "validation_loss_per_frame": round(scores["loss_per_frame"], 5),
            "lr": lr,
            "seconds": round(seconds, 1),
            "tokens_per_second": round(total_tokens / seconds),
            "weights_averaged": averaging,
        }
        average_state = averaged.state_dict() if averaged is not None else None
        improved = loop.record(
            entry, scores["loss_per_token"], scored, model, optimizer.state_dict(), average_state
        )
        _write_csv_and_plot(loop.history, out_dir)
        lr = _next_lr(lr, epoch, improved, averaging, loop.stale, config)
    best_epoch = loop.best_entry["epoch"] if loop.best_entry else 0
    return TrainResult(loop.best, best_epoch, loop.history, out_dir / "best.pt")


def _resume(
    path: Path,
    device: torch.device,
    model: ChoraleLSTM,
    optimizer: torch.optim.Optimizer,
    averaged: AveragedModel | None,
    lr: float,
) -> tuple[list[dict], int, float]:
    """A run's ``last.pt`` loaded into the model, optimizer and weight average; returns its
    history, the next epoch and the rate it ended with."""
    payload = checkpoint.load_payload(path, device)
    model.load_state_dict(payload["state_dict"])
    if "optimizer_state" in payload:
        optimizer.load_state_dict(payload["optimizer_state"])
    if averaged is not None and "resume_state" in payload:
        averaged.load_state_dict(payload["resume_state"])
    history = payload.get("history", [])
    return history, payload["epoch"] + 1, history[-1]["lr"] if history else lr


def _train_epoch(
    model: ChoraleLSTM,
    optimizer: torch.optim.Optimizer,
    rows: torch.Tensor,
    config: TrainConfig,
    lr: float,
    bar: str | None,
) -> tuple[float, int, float]:
    """One pass of truncated BPTT over the batch ``rows``: (summed loss in nats, tokens, seconds).
    ``bar``: the progress bar's label, None for no bar."""
    hidden = None
    total_loss, total_tokens = 0.0, 0
    epoch_start = time.monotonic()
    steps = math.ceil((rows.size(1) - 1) / config.seq_len)
    batches = tqdm(windows(rows, config.seq_len), total=steps, desc=bar, disable=bar is None)
    for inputs, targets in batches:
        logits, hidden = model(inputs, hidden)  # [B, T, V]
        hidden = ChoraleLSTM.detach(hidden)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        total_loss += loss.item() * targets.numel()
        total_tokens += targets.numel()
        batches.set_postfix(loss=f"{total_loss / total_tokens:.3f}", lr=f"{lr:.1e}")
    return total_loss, total_tokens, time.monotonic() - epoch_start


def _next_lr(
    lr: float, epoch: int, improved: bool, averaging: bool, stale: int, config: TrainConfig
) -> float:
    """The rate after ``epoch``; it stays at ``swa_lr`` while weights are averaged."""
    if averaging:
        return lr
    if config.lr_schedule == "step" and _step_decays(epoch, config):
        return lr * config.lr_decay
    if config.lr_schedule == "plateau" and not improved and stale % config.lr_decay_every == 0:
        return lr * config.lr_decay
    return lr


def save_weights_only(source: Path, target: Path) -> None:
    """Copy a checkpoint without optimizer state (small enough to ship) with its sidecar."""
    model, vocabulary, meta = checkpoint.load(source)
    checkpoint.save(
        target,
        model,
        vocabulary,
        meta["training"],
        meta["epoch"],
        meta["validation_loss"],
        meta["history"],
    )
    shutil.copy(
        source.parent / "learning_curve.png", target.with_name(target.stem + "_learning_curve.png")
    )
