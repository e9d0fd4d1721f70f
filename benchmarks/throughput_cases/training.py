"""Training speed: the project's epoch loop against a bare torch loop on the same batches.

The project is ``composer.training.train._train_epoch``, the loop ``python -m composer train``
runs (truncated backpropagation through the rows, gradient clipping, Adam), on the default model
(3 x 256, dropout 0.3). The bare loop is the textbook one on the same shapes and starting
weights: ``nn.Embedding`` -> one multi-layer ``nn.LSTM`` (dropout between layers) -> dropout ->
``nn.Linear``, cross-entropy, backward, ``clip_grad_norm_``, ``Adam.step`` and the loss read
back, on the same windows of the same training stream. Both on the CPU on one thread, back to
back, the order alternating between repetitions; ``train_vs_bare`` is the median of the
repetitions' ratios of tokens per CPU second (one thread: the process's CPU time is the work's
own, which other processes disturb less than the wall clock; wall-clock figures beside).

    .venv/bin/python benchmarks/throughput_cases/training.py [--windows 12] [--repetitions 4]

prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from composer.model import ChoraleLSTM  # noqa: E402
from composer.prepare import corpus_ids  # noqa: E402
from composer.training.dataset import batchify, epoch_stream  # noqa: E402
from composer.training.train import TrainConfig, _train_epoch  # noqa: E402
from composer.vocabulary import load_vocabulary  # noqa: E402


class BareModel(nn.Module):
    """The textbook language model, its weights copied from a ChoraleLSTM without LayerNorm."""

    def __init__(self, model: ChoraleLSTM) -> None:
        super().__init__()
        config = model.config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.lstm = nn.LSTM(
            config.embedding_dim,
            config.hidden_size,
            config.num_layers,
            dropout=config.dropout,
            batch_first=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        with torch.no_grad():
            self.embedding.weight.copy_(model.embedding.weight)
            self.head.load_state_dict(model.head.state_dict())
            for i, layer in enumerate(model.layers):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(self.lstm, f"{name}_l{i}").copy_(getattr(layer, f"{name}_l0"))

    def forward(self, ids: torch.Tensor, hidden: tuple | None) -> tuple[torch.Tensor, tuple]:
        out, hidden = self.lstm(self.embedding(ids), hidden)  # [B, T, H]
        return self.head(self.dropout(out)), hidden  # [B, T, V]


def bare_epoch(model: BareModel, rows: torch.Tensor, config: TrainConfig) -> int:
    """The textbook truncated-BPTT loop over ``rows`` [B, N]; returns the tokens trained on."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    hidden, tokens, total = None, 0, 0.0
    for start in range(0, rows.size(1) - 1, config.seq_len):
        end = min(start + config.seq_len, rows.size(1) - 1)
        inputs, targets = rows[:, start:end], rows[:, start + 1 : end + 1]  # [B, T] each
        logits, hidden = model(inputs, hidden)
        hidden = (hidden[0].detach(), hidden[1].detach())
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        total += loss.item() * targets.numel()
        tokens += targets.numel()
    return tokens


def _rows(config: TrainConfig, windows: int) -> torch.Tensor:
    """[B, windows x T + 1]: the first windows of an epoch's training stream."""
    vocabulary = load_vocabulary()
    stream = epoch_stream(corpus_ids("train"), vocabulary, random.Random(0), config.transpose)
    rows = batchify(stream, config.batch_size)
    return rows[:, : windows * config.seq_len + 1]


def measure(windows: int = 12, repetitions: int = 4) -> dict:
    """Project and bare training on the same ``windows`` batches of 50 x 128 tokens, fresh
    models from the same weights each repetition: figures and ``train_vs_bare``."""
    torch.set_num_threads(1)
    config = TrainConfig()
    rows = _rows(config, windows)
    vocabulary_size = len(load_vocabulary())

    def fresh() -> ChoraleLSTM:
        torch.manual_seed(0)
        return ChoraleLSTM(config.model_config(vocabulary_size)).train()

    def project() -> int:
        model = fresh()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        return _train_epoch(model, optimizer, rows, config, config.lr, None)[1]

    def bare() -> int:
        return bare_epoch(BareModel(fresh()).train(), rows, config)

    rates: dict[str, list[tuple[float, float]]] = {"project": [], "bare": []}
    runs = {"project": project, "bare": bare}
    bare_epoch(BareModel(fresh()).train(), rows[:, : 2 * config.seq_len + 1], config)  # warm-up
    for repetition in range(repetitions):
        for name in ("project", "bare") if repetition % 2 == 0 else ("bare", "project"):
            cpu, wall = time.process_time(), time.perf_counter()
            tokens = runs[name]()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            rates[name].append((tokens / cpu, tokens / wall))
    ratios = [p[0] / b[0] for p, b in zip(rates["project"], rates["bare"], strict=True)]
    wall_ratios = [p[1] / b[1] for p, b in zip(rates["project"], rates["bare"], strict=True)]
    return {
        "threads": torch.get_num_threads(),
        "tokens_per_run": windows * config.seq_len * config.batch_size,
        **{
            f"{name}_tokens_per_cpu_second": round(statistics.median(r[0] for r in rates[name]))
            for name in runs
        },
        **{
            f"{name}_tokens_per_second": round(statistics.median(r[1] for r in rates[name]))
            for name in runs
        },
        "train_vs_bare_wall_clock": round(statistics.median(wall_ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "train_vs_bare": round(statistics.median(ratios), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, default=12, help="batches of 50 x 128 tokens")
    parser.add_argument("--repetitions", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(measure(args.windows, args.repetitions)))


if __name__ == "__main__":
    main()
