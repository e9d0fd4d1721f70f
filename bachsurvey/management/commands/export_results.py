"""Write every answer (the rows of /api/results/answers.csv or .json) to a file, streamed.

    python manage.py export_results --format csv --out answers.csv
    python manage.py export_results --format json --out -        # to standard output

Rows are read from the database in chunks and written as they come, so memory stays flat. The
file appears whole or not at all: it is written next to its destination and renamed at the end.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bachsurvey.research import exports


def write_export(fmt: str, write: Callable[[str], object]) -> int:
    """Pass the export to ``write`` piece by piece; return the number of rows."""
    rows = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal rows
        for row in exports.export_rows():
            rows += 1
            yield row

    chunks = exports.EXPORT_FORMATS[fmt][0]
    for chunk in chunks(counted()):
        write(chunk)
    return rows


class Command(BaseCommand):
    help = "Export every answer of every participant who has not withdrawn, as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(exports.EXPORT_FORMATS), default="csv")
        parser.add_argument("--out", required=True, help="file to write, or - for stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt, out = options["format"], options["out"]
        start = time.perf_counter()
        if out == "-":
            rows = write_export(fmt, lambda chunk: self.stdout.write(chunk, ending=""))
        else:
            rows = self._to_file(fmt, Path(out))
        seconds = time.perf_counter() - start
        self.stderr.write(f"Exported {rows} answers as {fmt} to {out} in {seconds:.1f} s.")

    def _to_file(self, fmt: str, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created private (0600): the answers are research data.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                rows = write_export(fmt, file.write)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return rows
