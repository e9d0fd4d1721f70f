"""Render the practice pair and the sound check into static/quiz/ (generation.practice)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from bachsurvey.generation import practice


class Command(BaseCommand):
    help = "Render the practice pair and the sound check into static/quiz/ (torch, FluidSynth)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--static", type=Path, default=Path(settings.BASE_DIR) / "static")
        parser.add_argument("--checkpoint", help="default: HARMONIZATION_CHECKPOINT")

    def handle(self, *args: Any, **options: Any) -> None:
        written = practice.build(options["static"], options["checkpoint"])
        self.stdout.write(json.dumps(written))
