"""Fine-tuning (composer.training.finetune): the harmonizer's reader trains alone, on blanked
tokens; fusion weights."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint
from composer.harmonization.masks import frame_layout
from composer.harmonization.reader import Harmonizer
from composer.training.finetune import (
    FineTuneConfig,
    batch_loss,
    finetune,
    parse_weights,
    split_new_parameters,
    validate,
)
from tests.composer.tiny import harmonizer_of


def test_training_the_reader_lowers_its_loss_and_leaves_the_language_model_alone(
    tiny_corpus, vocabulary, language_model, tmp_path
):
    base = tmp_path / "base.pt"
    checkpoint.save(base, language_model, vocabulary, {}, epoch=1, validation_loss=0.0)
    config = FineTuneConfig(
        kind="harmonizer",
        base=str(base),
        epochs=2,
        batch_size=2,
        new_lr=1e-2,
        transpose=1,
        encoder_hidden=8,
        encoder_layers=1,
        fusion_weights="2,2,2,1",
        device="cpu",
        patience=5,
    )
    best = finetune(config, tiny_corpus[:4], tiny_corpus[4:], tmp_path / "run", progress=False)
    assert best["epoch"] >= 1, "two epochs on four chorales should beat the untrained reader"
    untouched = json.loads((tmp_path / "run" / "log.json").read_text())[0]
    assert best["validation_loss"] < untouched["validation_loss"]
    model, vocab, meta = checkpoint.load(tmp_path / "run" / "best.pt")
    assert isinstance(model, Harmonizer) and meta["kind"] == "harmonizer"
    assert model.config.fusion_weights == [2.0, 2.0, 2.0, 1.0]
    for name, value in language_model.state_dict().items():
        assert torch.equal(model.decoder.state_dict()[name], value), name
    assert set(best["per_mask"]) == set(best["reader_error_rate"]) == {
        "S", "A", "T", "B", "AT", "ATB"
    }  # fmt: skip
    again = validate(model, vocab, tiny_corpus[4:], torch.device("cpu"))
    assert again["validation_loss"] == pytest.approx(best["validation_loss"], rel=1e-4)


def test_only_the_reader_trains(language_model):
    harmonizer = harmonizer_of(language_model, [1.0, 1.0, 1.0, 1.0])
    own, new = split_new_parameters(harmonizer)
    decoder = {id(p) for p in harmonizer.decoder.parameters()}
    assert own == [] and not decoder & {id(p) for p in new}
    assert len(new) + len(decoder) == len(list(harmonizer.parameters()))
    grown = language_model.grow_condition(3)
    own, new = split_new_parameters(grown)
    assert new == [grown.condition_weight] and len(own) == len(list(language_model.parameters()))


def test_the_loss_counts_blanked_tokens(tiny_corpus, vocabulary, language_model):
    harmonizer = harmonizer_of(language_model, [1.0, 1.0, 1.0, 1.0])
    ids = tiny_corpus[0]
    layout = frame_layout(vocabulary.decode(ids))
    with torch.no_grad():
        _, counted = batch_loss(harmonizer, vocabulary, [ids], [layout], [[1, 2]], "cpu")
    assert counted == 2 * len(layout)  # alto and tenor of every frame


@pytest.mark.parametrize("text", ["1,1,1", "1,1,1,x", "1,-1,1,1", ""])
def test_fusion_weights_are_four_numbers_at_least_zero(text):
    with pytest.raises(ValueError, match="four numbers"):
        parse_weights(text)
    assert parse_weights("2,2,2,1") == [2.0, 2.0, 2.0, 1.0]
