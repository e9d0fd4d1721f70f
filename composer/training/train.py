"""Training: teacher forcing, truncated BPTT, validation each epoch, early stopping, checkpoints.

The loss is cross-entropy in nats per token. Validation scores each held-out chorale from its
START with a fresh state (padding ignored), so the figure does not depend on batch layout; it is
also reported per sixteenth-note frame (total nats / frames).
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from composer import checkpoint
from composer.conditioning import stream_length_features
from composer.encoding import FRAME_END, PAD, Vocabulary, load_vocabulary
from composer.model import ChoraleLSTM, ModelConfig, pick_device
from composer.training.dataset import batchify, epoch_stream, windows


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
) -> dict:
    """Loss over whole chorales, each from START with a fresh state: nats/token, /frame, e^loss."""
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
        condition = None
        if model.config.condition_dim:  # the length-aware model: told each chorale's true length
            condition = stream_length_features(ids, frame_end, pad)[:, :-1]  # [B, T-1, 3]
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


def start_run(
    out_dir: Path, threads: int | None, seed: int, device: str
) -> tuple[Path, torch.device]:
    """The run folder (made), torch's CPU threads and seed set, and the device to train on."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return out_dir, pick_device(device)


def out_of_patience_or_time(
    stale: int, patience: int, started: float, max_minutes: float | None
) -> bool:
    """Early stopping: ``stale`` epochs without improvement, or past the wall-clock budget."""
    if stale >= patience:
        return True
    return max_minutes is not None and (time.monotonic() - started) / 60 > max_minutes


def _set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _write_logs(history: list[dict], out_dir: Path) -> None:
    (out_dir / "log.json").write_text(json.dumps(history, indent=1) + "\n")
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
    history: list[dict] = []
    lr, best, best_epoch, first_epoch = config.lr, math.inf, 0, 1
    averaged = AveragedModel(model) if config.swa_start else None
    if resume is not None:
        payload = checkpoint.load_payload(resume, device)
        model.load_state_dict(payload["state_dict"])
        if "optimizer_state" in payload:
            optimizer.load_state_dict(payload["optimizer_state"])
        if averaged is not None and "resume_state" in payload:
            averaged.load_state_dict(payload["resume_state"])
        history = payload.get("history", [])
        first_epoch = payload["epoch"] + 1
        lr = history[-1]["lr"] if history else config.lr
        best_entry = min(history, key=lambda h: h["validation_loss"]) if history else None
        if best_entry:
            best, best_epoch = best_entry["validation_loss"], best_entry["epoch"]
    training_meta = asdict(config)
    started = time.monotonic()
    stale = 0
    for epoch in range(first_epoch, config.epochs + 1):
        averaging = averaged is not None and epoch >= config.swa_start
        if averaging:
            lr = config.swa_lr
        _set_lr(optimizer, lr)
        # Each epoch draws its order, shifts and dropout masks from (seed, epoch) alone, so a run
        # that is stopped and resumed sees the same epochs as one that never stopped.
        rng = random.Random(config.seed * 100_003 + epoch)
        torch.manual_seed(config.seed * 100_003 + epoch)
        model.train()
        rows = batchify(
            epoch_stream(train_chorales, vocabulary, rng, config.transpose), config.batch_size
        )
        rows = rows.to(device)
        hidden = None
        total_loss, total_tokens = 0.0, 0
        epoch_start = time.monotonic()
        steps = math.ceil((rows.size(1) - 1) / config.seq_len)
        bar = tqdm(
            windows(rows, config.seq_len), total=steps, desc=f"epoch {epoch}", disable=not progress
        )
        for inputs, targets in bar:
            logits, hidden = model(inputs, hidden)  # [B, T, V]
            hidden = ChoraleLSTM.detach(hidden)
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)), targets.reshape(-1)
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            total_loss += loss.item() * targets.numel()
            total_tokens += targets.numel()
            bar.set_postfix(loss=f"{total_loss / total_tokens:.3f}", lr=f"{lr:.1e}")
        seconds = time.monotonic() - epoch_start
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
        history.append(entry)
        if progress:
            print(json.dumps(entry), flush=True)
        improved = scores["loss_per_token"] < best
        if improved:
            best, best_epoch, stale = scores["loss_per_token"], epoch, 0
            checkpoint.save(
                out_dir / "best.pt", scored, vocabulary, training_meta, epoch, best, history
            )
        else:
            stale += 1
        checkpoint.save(
            out_dir / "last.pt",
            model,
            vocabulary,
            training_meta,
            epoch,
            scores["loss_per_token"],
            history,
            optimizer.state_dict(),
            averaged.state_dict() if averaged is not None else None,
        )
        _write_logs(history, out_dir)
        if averaging:
            pass  # the rate stays at swa_lr while weights are averaged
        elif config.lr_schedule == "step" and _step_decays(epoch, config):
            lr *= config.lr_decay
        elif (
            config.lr_schedule == "plateau" and not improved and stale % config.lr_decay_every == 0
        ):
            lr *= config.lr_decay
        if out_of_patience_or_time(stale, config.patience, started, config.max_minutes):
            break
    return TrainResult(best, best_epoch, history, out_dir / "best.pt")
