"""The checkpoint the site ships: its validation loss recomputed from scratch, and its samples."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint
from composer.cli_train import corpus_ids
from composer.sample import compose_with_report
from composer.train import evaluate

TARGET = 0.40  # nats per token on the committed split by chorale (BachBot: 0.477, easier split)


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(2)
    return checkpoint.load(checkpoint.DEFAULT_CHECKPOINT)


@pytest.mark.slow
def test_the_shipped_checkpoint_beats_the_target_on_the_validation_chorales(shipped):
    model, vocabulary, meta = shipped
    scores = evaluate(model, corpus_ids("validation"), vocabulary)
    assert scores["chorales"] == 35
    assert scores["loss_per_token"] <= TARGET
    # The sidecar tells the truth about it.
    sidecar = json.loads(checkpoint.sidecar_path(checkpoint.DEFAULT_CHECKPOINT).read_text())
    assert sidecar["validation_loss"] == pytest.approx(scores["loss_per_token"], abs=2e-3)


@pytest.fixture(scope="module")
def composer_checkpoint():
    torch.set_num_threads(2)
    return checkpoint.load(checkpoint.DEFAULT_COMPOSER)


@pytest.mark.slow
def test_the_length_aware_composer_also_beats_the_target(composer_checkpoint):
    """Scored with each validation chorale's true length (at most 0.005 nats/token of help)."""
    model, vocabulary, meta = composer_checkpoint
    assert model.config.condition_dim == 3 and meta["training"]["kind"] == "length"
    scores = evaluate(model, corpus_ids("validation"), vocabulary)
    assert scores["loss_per_token"] <= TARGET
    sidecar = json.loads(checkpoint.sidecar_path(checkpoint.DEFAULT_COMPOSER).read_text())
    assert sidecar["validation_loss"] == pytest.approx(scores["loss_per_token"], abs=2e-3)


@pytest.mark.slow
def test_nine_samples_in_ten_at_temperature_0_8_are_valid_chorales_and_seeded(
    composer_checkpoint,
):
    """The issue's target: at least 90% valid before replacement (62/64 and 63/64 measured
    with seeds 1 and 2 by `python -m composer sample --n 64`)."""
    model, vocabulary, _ = composer_checkpoint
    first = compose_with_report(model, vocabulary, 20, temperature=0.8, seed=11)
    assert first.first_batch_valid >= 18
    assert all(100 <= piece.count("|||") <= 400 for piece in first.pieces)
    # Seeded: a smaller draw twice (the same code path, half the time of repeating the 20).
    twice = [compose_with_report(model, vocabulary, 4, temperature=0.8, seed=5) for _ in "ab"]
    assert twice[0].pieces == twice[1].pieces
