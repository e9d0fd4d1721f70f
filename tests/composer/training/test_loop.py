"""The epoch scaffold that training and fine-tuning share (composer.training.loop).

Seeded runs must log the losses they logged before the two shared it: the figures below are
those of the separate loops (commit 47c0361), on the five tiny chorales.
"""

from __future__ import annotations

import json

import pytest

from composer.training.finetune import FineTuneConfig, finetune
from composer.training.train import TrainConfig, train

TINY = dict(
    embedding_dim=8, hidden_size=32, num_layers=1, dropout=0.1, seq_len=32, batch_size=4, lr=1e-2
)


def figures(history: list[dict]) -> list[float]:
    return [
        h[k] for h in history for k in ("epoch", "train_loss", "validation_loss", "lr") if k in h
    ]


def test_training_logs_the_losses_it_always_has(tiny_corpus, tmp_path):
    # step schedule, then weight averaging from epoch 3 (at swa_lr)
    config = TrainConfig(**TINY, epochs=4, swa_start=3, transpose=2, device="cpu")
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    assert figures(result.history) == pytest.approx(
        [1, 3.92441, 4.03711, 0.01, 2, 3.12822, 3.54109, 0.01]
        + [3, 2.99357, 3.52687, 0.00025, 4, 3.35632, 3.54348, 0.00025],
        abs=2e-4,
    )
    assert result.best_epoch == 3
    assert {p.name for p in tmp_path.iterdir()} >= {"best.pt", "last.pt", "log.json", "log.csv"}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # no better epoch after the start: patience 1 ends the run, best is epoch 0 (no best.pt)
        ("length", [0, 0.364466, 0.0003, 1, 0.41662, 0.371543, 0.0003]),
        (
            "harmonizer",
            [0, 5.556168, 0.0003, 1, 5.61958, 5.32867, 0.0003, 2, 5.12618, 5.067703, 0.0003],
        ),
    ],
)
def test_fine_tuning_logs_the_losses_it_always_has(tiny_corpus, tmp_path, kind, expected):
    config = FineTuneConfig(
        kind=kind,
        epochs=2,
        batch_size=2,
        encoder_hidden=16,
        encoder_layers=1,
        patience=1,
        device="cpu",
    )
    best = finetune(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    history = json.loads((tmp_path / "log.json").read_text())
    assert figures(history) == pytest.approx(expected, abs=2e-4)
    assert best == min(history, key=lambda h: h["validation_loss"])
    assert (tmp_path / "last.pt").exists()
    assert (tmp_path / "best.pt").exists() == (kind == "harmonizer")
