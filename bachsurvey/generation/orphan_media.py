"""Media files no row refers to: found, and removed once they are old enough.

Clips and scores are rendered into MEDIA_ROOT before the transaction that stores their rows
commits (bachsurvey.generation.pieces). A worker that dies between the two, or a database that
fails the commit, leaves files behind that nothing will ever serve. This module finds them: files
under the clips' and scores' folders (those of ``Clip.audio`` and ``Clip.score``) that no Clip
names. A file younger than the grace period is spared, however orphaned it looks: it may belong
to a piece whose transaction has not committed yet. The folders are listed before the rows are
read, so a piece that commits meanwhile is seen as referenced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from bachsurvey.models import Clip

DEFAULT_GRACE_S = 3600


@dataclass
class Sweep:
    """What a sweep found (and removed, unless it was a dry run)."""

    orphans: list[tuple[str, int]] = field(default_factory=list)  # name, bytes
    referenced: int = 0
    recent: int = 0  # orphaned-looking, but younger than the grace period: kept

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.orphans)


def folders() -> list[str]:
    """The folders under MEDIA_ROOT that rows' files live in (``clips``, ``scores``)."""
    names = {Clip._meta.get_field(name).upload_to for name in ("audio", "score")}
    return sorted(str(name).strip("/") for name in names)


def referenced_names() -> set[str]:
    names: set[str] = set()
    for audio, score in Clip.objects.values_list("audio", "score").iterator():
        names.update((audio, score))
    return names


def sweep(grace_s: int = DEFAULT_GRACE_S, dry_run: bool = False) -> Sweep:
    """Find the files no Clip names that are older than ``grace_s``; remove them unless
    ``dry_run``."""
    if grace_s < 0:
        raise ValueError(f"the grace period must be 0 seconds or more, got {grace_s}")
    root = Path(settings.MEDIA_ROOT)
    cutoff = time.time() - grace_s
    found = {}  # name -> (bytes, modified)
    for folder in folders():
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.is_symlink():
                stat = path.stat()
                found[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime)
    known = referenced_names()  # after listing: a piece committed meanwhile counts as known
    result = Sweep()
    for name, (size, modified) in found.items():
        if name in known:
            result.referenced += 1
        elif modified > cutoff:
            result.recent += 1
        else:
            result.orphans.append((name, size))
            if not dry_run:
                (root / name).unlink(missing_ok=True)
    return result
