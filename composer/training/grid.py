"""Grid search over model settings: each configuration is one self-contained function call
(:func:`run_configuration`), so a caller can run them in turn (``python -m composer grid``) or hand
each to a Celery worker; the results land in one CSV table and one plot.

A grid file is JSON::

    {"base": {"epochs": 10, "threads": 2},
     "grid": {"num_layers": [2, 3], "hidden_size": [128, 256], "dropout": [0.3]}}

``base`` holds settings shared by every run, ``grid`` the values to cross (any
:class:`composer.training.train.TrainConfig` field, e.g. layers, hidden size, embedding size,
sequence length and dropout).
"""

from __future__ import annotations

import csv
import itertools
import json
import time
from pathlib import Path

from composer.prepare import corpus_ids
from composer.training.train import TrainConfig, train


def configurations(grid_file: dict) -> list[dict]:
    """Every combination of the grid's values, each merged over ``base``."""
    base, grid = grid_file.get("base", {}), grid_file.get("grid", {})
    if not grid:
        raise ValueError("the grid file has no 'grid' values to search")
    names = sorted(grid)
    combos = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(grid[n] for n in names))
    ]
    for combo in combos:
        TrainConfig.from_dict({**base, **combo})  # fail before any training on an unknown name
    return [{**base, **combo} for combo in combos]


def run_configuration(settings: dict, out_dir: str | Path) -> dict:
    """Train one configuration on the committed split; returns one results-table row."""
    config = TrainConfig.from_dict(settings)
    started = time.monotonic()
    result = train(
        config, corpus_ids("train"), corpus_ids("validation"), Path(out_dir), progress=False
    )
    return {
        **settings,
        "best_validation_loss": round(result.best_validation_loss, 5),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds": round(time.monotonic() - started, 1),
        "run_dir": str(out_dir),
    }


def run_name(settings: dict, varying: list[str]) -> str:
    return "_".join(f"{name}-{settings[name]}" for name in varying) or "base"


def write_results(rows: list[dict], out_dir: Path) -> None:
    """``results.csv`` (all rows, best first) and ``results.png`` (validation loss per run)."""
    rows = sorted(rows, key=lambda r: r["best_validation_loss"])
    fieldnames = list(dict.fromkeys(k for r in rows for k in r))  # first-seen order
    with open(out_dir / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.5))
    labels = [Path(r["run_dir"]).name for r in rows]
    ax.barh(labels, [r["best_validation_loss"] for r in rows], color="tab:blue")
    ax.axvline(0.477, color="grey", linestyle="--", label="BachBot (0.477)")
    ax.invert_yaxis()
    ax.set_xlabel("best validation loss (nats / token)")
    ax.set_title("Grid search")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "results.png", dpi=100)
    plt.close(fig)


def run_grid(grid_path: Path, out_dir: Path) -> list[dict]:
    grid_file = json.loads(Path(grid_path).read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    varying = sorted(grid_file.get("grid", {}))
    rows = []
    for index, settings in enumerate(configurations(grid_file), start=1):
        name = run_name(settings, varying)
        print(f"[grid] {index}: {name}", flush=True)
        rows.append(run_configuration(settings, out_dir / name))
        write_results(rows, out_dir)  # the table grows as runs finish
    return rows
