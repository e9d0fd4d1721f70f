"""Remove clips and scores that no row refers to (left by a worker that died mid-piece).

    python manage.py clean_media --dry-run          # list them, delete nothing
    python manage.py clean_media --grace 86400      # spare files younger than a day

Prints one line per orphan (``DELETE`` or ``WOULD DELETE``, its name, its size) and a summary:
files and bytes removed, files kept because a row refers to them, files kept because they are
younger than the grace period (default one hour: a batch may be rendering a piece whose rows are
not committed yet). See bachsurvey.generation.orphan_media.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey.generation import orphan_media


class Command(BaseCommand):
    help = (
        "Delete media files (clips, scores) under MEDIA_ROOT that no stored row references and "
        "that are older than the grace period; --dry-run lists them only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list them, delete nothing")
        parser.add_argument(
            "--grace",
            type=int,
            default=orphan_media.DEFAULT_GRACE_S,
            metavar="SECONDS",
            help="spare files younger than this (default: %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        try:
            result = orphan_media.sweep(options["grace"], dry_run)
        except ValueError as error:
            raise CommandError(f"--grace: {error}") from error
        verb = "WOULD DELETE" if dry_run else "DELETE"
        for name, size in result.orphans:
            self.stdout.write(f"{verb} {name} ({size} bytes)")
        done = "would be deleted" if dry_run else "deleted"
        self.stdout.write(
            f"{len(result.orphans)} orphaned files ({result.bytes} bytes) {done} from "
            f"{settings.MEDIA_ROOT}; kept {result.referenced} referenced, {result.recent} younger "
            f"than {options['grace']} s"
        )
