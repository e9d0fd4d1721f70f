"""Write docs/codebook.md from the export's columns (bachsurvey.research.codebook).

python manage.py write_codebook            # rewrite docs/codebook.md
python manage.py write_codebook --check    # exit 1 if it is stale
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey.research import codebook


def default_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "codebook.md"


class Command(BaseCommand):
    help = "Write the answer exports' codebook (columns, meaning, type, values) as Markdown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None, help="default: docs/codebook.md")
        parser.add_argument(
            "--check", action="store_true", help="write nothing; fail if the file differs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["out"] or default_path()
        text = codebook.markdown()
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is stale: run python manage.py write_codebook")
            self.stdout.write(f"{path} is up to date.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {len(codebook.codebook())} columns to {path}.")
