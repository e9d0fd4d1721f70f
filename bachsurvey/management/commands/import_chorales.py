"""Render the real side: corpus chorales through the same path as generated ones (idempotent).

Each chorale gets one shared row (no batch) with its whole rendering; generation batches cut
their excerpts from the same rows. Run again, it renders only what is missing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from bachsurvey.generation import music, pieces


class Command(BaseCommand):
    help = "Render every corpus chorale (MP3 and SVG) into the real side of the survey."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, help="only the first N chorales (by id)")

    def handle(self, *args: Any, **options: Any) -> None:
        tokens, _ = music.corpus()
        ids = sorted(tokens)[: options["limit"]]
        rendered = 0
        for source in tqdm(ids, desc="chorales", disable=options["verbosity"] < 1):
            rendered += pieces.import_real(source, tokens[source])
        self.stdout.write(f"{rendered} rendered, {len(ids) - rendered} already there")
