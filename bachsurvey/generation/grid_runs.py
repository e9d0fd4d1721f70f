"""The hyperparameter grid search on the `gpu` queue: one GridRun row and one task per setting
(made and queued by bachsurvey.generation.jobs.start_grid).

composer.training.grid does the work (`run_configuration` trains one configuration); this module
stores its results row, so the admin shows the search as one table, and writes composer's
results.csv and results.png under GRID_RUNS_DIR/<grid>/ once the last configuration of a search has
ended.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bachsurvey.models import Batch, GridRun

logger = logging.getLogger(__name__)
Status = Batch.Status
RESULT_FIELDS = ("best_validation_loss", "best_epoch", "epochs_run", "seconds", "run_dir")


def run_dir(row: GridRun) -> Path:
    """GRID_RUNS_DIR/<grid>/<index>_<the settings that vary across the grid>."""
    from composer.training.grid import run_name

    siblings = list(GridRun.objects.filter(grid=row.grid).values_list("settings", flat=True))
    keys = sorted({k for s in siblings for k in s})
    varying = [k for k in keys if len({repr(s.get(k)) for s in siblings}) > 1]
    return (
        Path(settings.GRID_RUNS_DIR)
        / row.grid
        / f"{row.index:03d}_{run_name(row.settings, varying)}"
    )


def run(run_id: int) -> str:
    """Train one configuration (unless it is done already) and store its row; returns the status."""
    from composer.training.grid import run_configuration

    with transaction.atomic():
        row = GridRun.objects.select_for_update().filter(pk=run_id).first()
        if row is None or row.status == Status.DONE:
            return "skipped"
        row.status, row.error = Status.RUNNING, ""
        row.save(update_fields=["status", "error"])
    try:
        result = run_configuration(row.settings, run_dir(row))
    except Exception as error:
        logger.exception("grid run %s failed", run_id)
        row.status, row.error = Status.FAILED, f"{type(error).__name__}: {error}"
    else:
        row.status = Status.DONE
        for name in RESULT_FIELDS:
            setattr(row, name, result[name])
    row.finished_at = timezone.now()
    row.save()
    try:
        write_results_if_finished(row.grid)
    except Exception:  # the table in the admin is the record; the files are a convenience
        logger.exception("grid %s: could not write results.csv / results.png", row.grid)
    return row.status


def write_results_if_finished(grid: str) -> None:
    """composer's table and plot of the whole search, once no configuration is left to run."""
    rows = GridRun.objects.filter(grid=grid)
    if rows.filter(status__in=[Status.PENDING, Status.RUNNING]).exists():
        return
    from composer.training.grid import write_results

    table = [
        {**row.settings, **{name: getattr(row, name) for name in RESULT_FIELDS}}
        for row in rows.filter(status=Status.DONE)
    ]
    if table:
        out = Path(settings.GRID_RUNS_DIR) / grid
        out.mkdir(parents=True, exist_ok=True)
        write_results(table, out)
