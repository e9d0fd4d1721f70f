"""Training on a tiny real corpus: the loss falls, logs and plots are written, runs resume."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from composer.checkpoint import load
from composer.training.train import TrainConfig, evaluate, train
from tests.composer.tiny import TINY


def test_two_epochs_lower_the_loss_and_write_logs(tiny_corpus, tmp_path):
    config = TrainConfig(**TINY, epochs=2, patience=5)
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    first, second = result.history
    assert second["train_loss"] < first["train_loss"]
    assert second["validation_loss"] < first["validation_loss"]
    assert (tmp_path / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "log.json").read_text()) == result.history
    assert (tmp_path / "log.csv").read_text().startswith("epoch,train_loss,validation_loss")
    model, vocabulary, meta = load(result.best_path)
    scores = evaluate(model, tiny_corpus[4:], vocabulary)
    assert abs(scores["loss_per_token"] - result.best_validation_loss) < 1e-4
    assert scores["loss_per_frame"] > scores["loss_per_token"]
    assert meta["epoch"] == result.best_epoch


def test_a_run_resumes_from_its_last_checkpoint(tiny_corpus, tmp_path):
    train(TrainConfig(**TINY, epochs=1), tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    resumed = train(
        TrainConfig(**TINY, epochs=2),
        tiny_corpus[:4],
        tiny_corpus[4:],
        tmp_path,
        resume=tmp_path / "last.pt",
        progress=False,
    )
    assert [h["epoch"] for h in resumed.history] == [1, 2]


def test_early_stopping_ends_a_run_that_stops_improving(tiny_corpus, tmp_path):
    # With a learning rate of zero nothing improves after the first epoch.
    config = TrainConfig(**{**TINY, "lr": 0.0}, epochs=10, patience=2)
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    assert len(result.history) == 3
    assert result.best_epoch == 1


def test_the_step_schedule_halves_the_rate_every_n_epochs(tiny_corpus, tmp_path):
    config = TrainConfig(**TINY, epochs=3, lr_decay_every=1, lr_decay=0.5)
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    assert [h["lr"] for h in result.history] == [1e-2, 5e-3, 2.5e-3]


def test_the_step_schedule_can_hold_the_rate_before_decaying(tiny_corpus, tmp_path):
    config = TrainConfig(**TINY, epochs=4, lr_decay_start=2, lr_decay_every=1, lr_decay=0.5)
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path, progress=False)
    assert [h["lr"] for h in result.history] == [1e-2, 1e-2, 5e-3, 2.5e-3]


def assert_resuming_matches(config: TrainConfig, stop_after: int, corpus, folder) -> list[dict]:
    """Train ``config`` whole, and again stopped after ``stop_after`` epochs then resumed."""
    whole = train(config, corpus[:4], corpus[4:], folder / "whole", progress=False)
    cut = replace(config, epochs=stop_after)
    train(cut, corpus[:4], corpus[4:], folder / "cut", progress=False)
    resumed = train(
        config,
        corpus[:4],
        corpus[4:],
        folder / "cut",
        resume=folder / "cut" / "last.pt",
        progress=False,
    )
    assert resumed.history[-1]["validation_loss"] == pytest.approx(
        whole.history[-1]["validation_loss"], abs=1e-4
    )
    return whole.history


def test_a_resumed_run_matches_one_that_never_stopped(tiny_corpus, tmp_path):
    assert_resuming_matches(TrainConfig(**TINY, epochs=2), 1, tiny_corpus, tmp_path)


def test_weight_averaging_ships_the_average_and_resumes_it(tiny_corpus, tmp_path):
    config = TrainConfig(**TINY, epochs=3, swa_start=2, swa_lr=1e-3)
    history = assert_resuming_matches(config, 2, tiny_corpus, tmp_path)
    assert [h["weights_averaged"] for h in history] == [False, True, True]
    assert [h["lr"] for h in history][1:] == [1e-3, 1e-3]
