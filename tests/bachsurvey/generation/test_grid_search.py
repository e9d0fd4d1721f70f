"""`grid_search CONFIG`: one task per configuration on the gpu queue, results as one table."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from bachsurvey import celery_app
from bachsurvey.models import GridRun

pytestmark = pytest.mark.django_db

TINY = {"epochs": 1, "seq_len": 32, "batch_size": 4, "embedding_dim": 8, "num_layers": 1}


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"base": TINY, "grid": {"hidden_size": [8, 16]}}))
    return path


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> Iterator[None]:
    """Tasks run eagerly here, each configuration on five chorales instead of the corpus."""
    from composer.prepare import load_tokens
    from composer.vocabulary import load_vocabulary

    vocabulary, tokens = load_vocabulary(), load_tokens()
    tiny = [vocabulary.encode(tokens[i]) for i in sorted(tokens)[:5]]
    monkeypatch.setattr(
        "composer.training.grid.corpus_ids",
        lambda split: tiny[:4] if split == "train" else tiny[4:],
    )
    settings.GRID_RUNS_DIR = tmp_path / "grid"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_each_configuration_is_a_task_on_the_gpu_queue(
    grid_file: Path, django_capture_on_commit_callbacks: Any
) -> None:
    route = celery_app.amqp.router.route({}, "bachsurvey.tasks.run_grid_configuration")
    assert route["queue"].name == "gpu"
    with django_capture_on_commit_callbacks() as queued:
        call_command("grid_search", str(grid_file), "--name", "g1", stdout=StringIO())
    rows = GridRun.objects.filter(grid="g1")
    assert [r.settings["hidden_size"] for r in rows] == [8, 16]
    assert {r.status for r in rows} == {"pending"} and len(queued) == 2


def test_the_results_land_in_one_table(
    grid_file: Path,
    in_process: None,
    admin_client: Client,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("grid_search", str(grid_file), "--name", "g2", stdout=StringIO())
    rows = list(GridRun.objects.filter(grid="g2"))
    assert [r.status for r in rows] == ["done", "done"], [r.error for r in rows]
    assert all(r.best_validation_loss > 0 and r.epochs_run == 1 for r in rows)
    table = list(csv.DictReader(open(settings.GRID_RUNS_DIR / "g2" / "results.csv")))
    assert sorted(row["hidden_size"] for row in table) == ["16", "8"]
    assert (settings.GRID_RUNS_DIR / "g2" / "results.png").is_file()
    page = admin_client.get("/admin/bachsurvey/gridrun/?grid=g2").content.decode()
    assert "hidden_size=16" in page and "hidden_size=8" in page


def test_a_bad_grid_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"grid": {"layers": [1, 2]}}))
    with pytest.raises(CommandError, match="unknown training settings"):
        call_command("grid_search", str(path))
    assert not GridRun.objects.exists()
