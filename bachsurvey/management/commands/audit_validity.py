"""Audit the live pool: is there any route to the answer but the music?
(bachsurvey.generation.audit)

    python manage.py audit_validity          # a readable report
    python manage.py audit_validity --json   # the same, the last line one JSON object

Exit status 1 when a rule is broken (shared audio or Bach excerpts, endings or keys that
differ, files that differ beyond the render path's tolerance, a judge that beats chance); 2 when
the pool cannot be audited (a live clip's audio file is missing).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey.generation import audit


class Command(BaseCommand):
    help = "Check the live questions for any cue but the music; exit 1 when a rule is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="end with one JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = audit.audit()
        except audit.AudioMissing as missing:
            raise CommandError(f"cannot audit the live pool: {missing}", returncode=2) from missing
        for line in audit.describe(report):
            self.stdout.write(line)
        if options["json"]:
            self.stdout.write(json.dumps(report, separators=(",", ":")))
        if report["broken"]:
            sys.exit(1)
