"""Send a hyperparameter grid search to the `gpu` queue: one task per configuration.

    python manage.py grid_search grid.json [--name NAME]

The grid file is composer.training.grid's JSON ({"base": {...}, "grid": {"hidden_size": [128,
256]}}). Results land in the admin (Grid runs) as one table, and in GRID_RUNS_DIR/NAME/ as
composer's results.csv and results.png once the last configuration has ended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bachsurvey.generation import jobs
from bachsurvey.models import GridRun


class Command(BaseCommand):
    help = "Queue one training task per configuration of a grid file on the gpu queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("config", type=Path, help="composer.training.grid JSON file")
        parser.add_argument("--name", help="the search's name (default: file name and time)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["config"]
        try:
            grid_file = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        name = options["name"] or f"{path.stem}-{timezone.now():%Y%m%d-%H%M%S}"
        if GridRun.objects.filter(grid=name).exists():
            raise CommandError(f"a grid search named {name!r} exists already")
        try:
            rows = jobs.start_grid(grid_file, name)
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from error
        self.stdout.write(
            f"queued {len(rows)} configurations as grid {name!r}; "
            f"results: /admin/bachsurvey/gridrun/?grid={name}"
        )
