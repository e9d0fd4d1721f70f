"""Checkpoints: a plain dict plus a readable sidecar, loaded on the CPU, errors named."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint
from composer.model import ChoraleLSTM, ModelConfig
from composer.vocabulary import load_vocabulary


def test_save_and_load_round_trip(tmp_path):
    vocabulary = load_vocabulary()
    model = ChoraleLSTM(ModelConfig(len(vocabulary), 8, 16, 2, 0.1, layer_norm=True)).eval()
    path = tmp_path / "model.pt"
    checkpoint.save(path, model, vocabulary, {"lr": 0.002}, epoch=3, validation_loss=0.5)
    loaded, loaded_vocabulary, meta = checkpoint.load(path)
    ids = torch.randint(0, len(vocabulary), (2, 9))
    assert torch.equal(model(ids)[0], loaded(ids)[0])
    assert loaded_vocabulary == vocabulary
    assert meta["epoch"] == 3 and meta["training"] == {"lr": 0.002}
    assert meta["model_config"]["layer_norm"] is True
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["validation_loss"] == 0.5 and sidecar["vocabulary_size"] == len(vocabulary)
    assert "git_commit" in sidecar and sidecar["parameters"] == model.num_parameters()
    raw = torch.load(path, weights_only=True)
    assert isinstance(raw, dict) and all(t.device.type == "cpu" for t in raw["state_dict"].values())


def test_missing_and_foreign_files_are_named(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint at"):
        checkpoint.load(tmp_path / "nothing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="not a readable checkpoint"):
        checkpoint.load(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(checkpoint.CheckpointError, match="not a Bach or Bot checkpoint"):
        checkpoint.load(other)
