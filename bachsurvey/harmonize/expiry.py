"""Results are kept for HARMONIZATION_TTL_SECONDS, then deleted, files and rows: by
`manage.py expire_harmonizations` (a cron job, if one is wanted) and, a few at a time, whenever a
new request arrives."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils._os import safe_join

from bachsurvey.models import Harmonization

FOLDER = "harmonizations"  # under MEDIA_ROOT, one folder per request


def folder_of(harmonization: Harmonization) -> str:
    return f"{FOLDER}/{harmonization.pk.hex}"


def delete_expired(limit: int | None = None) -> int:
    """Delete up to ``limit`` (all when None) expired requests and their files; how many."""
    expired = Harmonization.objects.filter(expires_at__lte=timezone.now()).order_by("expires_at")
    rows = list(
        expired.values_list("pk", "folder")[:limit]
        if limit
        else expired.values_list("pk", "folder")
    )
    for _, folder in rows:
        if folder:
            shutil.rmtree(Path(safe_join(settings.MEDIA_ROOT, folder)), ignore_errors=True)
    Harmonization.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return len(rows)
