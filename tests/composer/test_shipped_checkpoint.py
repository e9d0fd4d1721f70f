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


@pytest.mark.slow
def test_most_samples_at_temperature_0_8_are_valid_chorales_and_seeded(shipped):
    model, vocabulary, _ = shipped
    first = compose_with_report(model, vocabulary, 8, temperature=0.8, seed=11)
    # Most pieces are BachBot-sized (100-400 frames) on the first draw: 52 of 64 (81%) with
    # seed 1. The rejects run past 400 frames; the 90% target is not met yet.
    assert first.first_batch_valid >= 5
    again = compose_with_report(model, vocabulary, 8, temperature=0.8, seed=11)
    assert again.pieces == first.pieces
