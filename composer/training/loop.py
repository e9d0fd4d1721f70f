"""The epoch scaffold that training and fine-tuning share.

Each epoch draws its order, shifts, masks and dropout from (seed, epoch) alone, so a run that is
stopped and resumed sees the same epochs as one that never stopped. After each epoch the caller
hands its log entry and validation loss to :meth:`EpochLoop.record`, which keeps the history,
saves ``best.pt`` (lowest validation loss) and ``last.pt`` (for resuming or choosing by other
means) with ``log.json``; the loop ends after ``patience`` epochs without a better loss or the
epoch that passes the wall-clock budget.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from composer import checkpoint
from composer.model import pick_device
from composer.vocabulary import Vocabulary


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


class EpochLoop:
    """Seeded epochs, the history, best and last checkpoints, early stopping."""

    def __init__(
        self,
        out_dir: Path,
        vocabulary: Vocabulary,
        meta: dict,
        seed: int,
        progress: bool,
        history: list[dict] | None = None,
    ) -> None:
        self.out_dir, self.vocabulary, self.meta = out_dir, vocabulary, meta
        self.seed, self.progress = seed, progress
        self.history: list[dict] = []
        self.best, self.best_entry, self.stale = math.inf, None, 0
        for entry in history or []:  # a resumed run: its best so far, as logged
            self.history.append(entry)
            if self.best_entry is None or entry["validation_loss"] < self.best:
                self.best, self.best_entry = entry["validation_loss"], entry

    def epochs(
        self, first: int, last: int, patience: int, max_minutes: float | None
    ) -> Iterator[tuple[int, random.Random]]:
        """Epochs ``first`` .. ``last``, each with its own seeded ``random.Random`` (and torch
        seed), until patience or time runs out."""
        started = time.monotonic()
        for epoch in range(first, last + 1):
            rng = random.Random(self.seed * 100_003 + epoch)
            torch.manual_seed(self.seed * 100_003 + epoch)
            yield epoch, rng
            if out_of_patience_or_time(self.stale, patience, started, max_minutes):
                return

    def record(
        self,
        entry: dict,
        loss: float,
        best_model: nn.Module | None = None,
        last_model: nn.Module | None = None,
        optimizer_state: dict | None = None,
        resume_state: dict | None = None,
    ) -> bool:
        """Log one epoch (``entry``, its validation ``loss``); save ``best_model`` when the loss
        is the best yet and ``last_model`` always. Whether the loss improved."""
        self.history.append(entry)
        if self.progress:
            print(json.dumps(entry), flush=True)
        improved = loss < self.best
        epoch = entry["epoch"]
        if improved:
            self.best, self.best_entry, self.stale = loss, entry, 0
            if best_model is not None:
                self._save("best.pt", best_model, epoch, loss)
        else:
            self.stale += 1
        if last_model is not None:
            self._save("last.pt", last_model, epoch, loss, optimizer_state, resume_state)
        (self.out_dir / "log.json").write_text(json.dumps(self.history, indent=1) + "\n")
        return improved

    def _save(self, name: str, model: nn.Module, epoch: int, loss: float, *state) -> None:
        checkpoint.save(
            self.out_dir / name,
            model,
            self.vocabulary,
            self.meta,
            epoch,
            loss,
            self.history,
            *state,
        )
