"""``/readyz``: whether this web process can serve the quiz now (``/healthz`` only says it runs).

Each part is tried for real: a query on the database, a write and read in the cache, a
connection to the broker (only when CELERY_BROKER_URL is set; without it tasks run in-process),
and a file written and removed in MEDIA_ROOT (where rendered clips are stored). 200 with each
part's status as JSON when all are ok; 503 naming the parts that fail, with their error.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

BROKER_TIMEOUT_S = 2.0


def database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def cache_() -> str:
    key, value = f"readyz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, 10)
    read = cache.get(key)
    cache.delete(key)
    if read != value:  # Django's cache backends may swallow errors: check the value came back
        raise RuntimeError("a value written to the cache did not come back")
    return "ok"


def broker() -> str:
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return "not configured (tasks run in-process)"
    from bachsurvey import celery_app

    with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_S)
        conn.default_channel  # noqa: B018 - a channel: the broker really answers
    return "ok"


def media() -> str:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".readyz-") as file:
        file.write(b"ok")
        file.flush()
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": database,
    "cache": cache_,
    "broker": broker,
    "media": media,
}


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Every part's status; 503 and the failing parts' names when any fails."""
    checks, failing = {}, []
    for name, check in CHECKS.items():
        try:
            checks[name] = check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready, said by name
            checks[name] = f"failing: {type(error).__name__}: {error}"[:300]
            failing.append(name)
    body = {"status": "failing" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
