"""The checkpoints the site ships: validation losses recomputed from scratch, samples, and the
harmonizer against its language model."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint, paths
from composer.harmonization.evaluation import evaluate as evaluate_harmonization
from composer.harmonization.evaluation import validation_chorales
from composer.harmonization.reader import Harmonizer
from composer.prepare import corpus_ids
from composer.sample import compose_with_report
from composer.training.finetune import validate
from composer.training.train import evaluate

TARGET = 0.40  # nats per token on the committed split by chorale (BachBot: 0.477, easier split)


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(2)
    return checkpoint.load(paths.DEFAULT_CHECKPOINT)


@pytest.mark.slow
def test_the_shipped_checkpoint_beats_the_target_on_the_validation_chorales(shipped):
    model, vocabulary, meta = shipped
    scores = evaluate(model, corpus_ids("validation"), vocabulary)
    assert scores["chorales"] == 35
    assert scores["loss_per_token"] <= TARGET
    # The sidecar tells the truth about it.
    sidecar = json.loads(checkpoint.sidecar_path(paths.DEFAULT_CHECKPOINT).read_text())
    assert sidecar["validation_loss"] == pytest.approx(scores["loss_per_token"], abs=2e-3)


@pytest.fixture(scope="module")
def composer_checkpoint():
    torch.set_num_threads(2)
    return checkpoint.load(paths.DEFAULT_COMPOSER)


@pytest.mark.slow
def test_the_length_aware_composer_also_beats_the_target(composer_checkpoint):
    """Scored with each validation chorale's true length (at most 0.005 nats/token of help)."""
    model, vocabulary, meta = composer_checkpoint
    assert model.config.condition_dim == 3 and meta["training"]["kind"] == "length"
    scores = evaluate(model, corpus_ids("validation"), vocabulary)
    assert scores["loss_per_token"] <= TARGET
    sidecar = json.loads(checkpoint.sidecar_path(paths.DEFAULT_COMPOSER).read_text())
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


@pytest.fixture(scope="module")
def harmonizer_checkpoint():
    torch.set_num_threads(2)
    return checkpoint.load(paths.DEFAULT_HARMONIZER)


@pytest.mark.slow
def test_the_shipped_harmonizer_is_the_language_model_times_its_reader(
    harmonizer_checkpoint, shipped
):
    """Its decoder is bachbot.pt as shipped, and the sidecar tells its weights and its reader's
    validation loss, recomputed here."""
    model, vocabulary, meta = harmonizer_checkpoint
    assert isinstance(model, Harmonizer) and meta["kind"] == "harmonizer"
    language_model = shipped[0]
    for name, value in language_model.state_dict().items():
        assert torch.equal(model.decoder.state_dict()[name], value), name
    sidecar = json.loads(checkpoint.sidecar_path(paths.DEFAULT_HARMONIZER).read_text())
    assert sidecar["model_config"]["fusion_weights"] == model.config.fusion_weights
    assert meta["training"]["fusion_weights"] == ",".join(
        f"{w:g}" for w in model.config.fusion_weights
    )
    scores = validate(model, vocabulary, corpus_ids("validation"), torch.device("cpu"))
    assert sidecar["validation_loss"] == pytest.approx(scores["validation_loss"], abs=2e-3)


@pytest.mark.slow
def test_the_shipped_harmonizer_fills_a_tenor_more_like_bach_than_its_language_model(
    harmonizer_checkpoint, shipped
):
    """Greedy, the first five validation chorales, tenor alone (full table: README)."""
    harmonizer, vocabulary, _ = harmonizer_checkpoint
    chorales = validation_chorales(5)
    alone = evaluate_harmonization(shipped[0], vocabulary, chorales, ["T"], progress=False)
    read = evaluate_harmonization(harmonizer, vocabulary, chorales, ["T"], progress=False)
    assert read["T"]["token_error_rate"] < alone["T"]["token_error_rate"] - 0.05
