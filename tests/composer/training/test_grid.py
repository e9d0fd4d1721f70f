"""Grid search: configurations cross the grid, each run is one call, results land in one table."""

from __future__ import annotations

import csv
import json

import pytest

from composer.training import grid


def test_configurations_cross_the_grid_over_the_base():
    grid_file = {"base": {"epochs": 1}, "grid": {"num_layers": [1, 2], "dropout": [0.0, 0.5]}}
    runs = grid.configurations(grid_file)
    assert len(runs) == 4
    assert {(r["num_layers"], r["dropout"]) for r in runs} == {
        (1, 0.0),
        (1, 0.5),
        (2, 0.0),
        (2, 0.5),
    }
    assert all(r["epochs"] == 1 for r in runs)


def test_an_unknown_setting_is_refused_before_training():
    with pytest.raises(ValueError, match="unknown training settings: \\['layers'\\]"):
        grid.configurations({"grid": {"layers": [1]}})
    with pytest.raises(ValueError, match="no 'grid' values"):
        grid.configurations({"base": {}})


def test_a_small_grid_writes_one_table_and_one_plot(tmp_path, monkeypatch, tiny_corpus):
    # The real corpus is too big for a test: run each configuration on the tiny one.
    monkeypatch.setattr(
        "composer.training.grid.corpus_ids",
        lambda split: tiny_corpus[:4] if split == "train" else tiny_corpus[4:],
    )
    path = tmp_path / "grid.json"
    base = {"epochs": 1, "seq_len": 32, "batch_size": 4, "embedding_dim": 8, "num_layers": 1}
    path.write_text(json.dumps({"base": base, "grid": {"hidden_size": [8, 16]}}))
    rows = grid.run_grid(path, tmp_path / "out")
    assert len(rows) == 2
    table = list(csv.DictReader(open(tmp_path / "out" / "results.csv")))
    assert [float(r["best_validation_loss"]) for r in table] == sorted(
        float(r["best_validation_loss"]) for r in table
    )
    assert {r["hidden_size"] for r in table} == {"8", "16"}
    assert (tmp_path / "out" / "results.png").read_bytes()[:4] == b"\x89PNG"
