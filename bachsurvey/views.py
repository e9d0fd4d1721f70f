"""The quiz page and the media files its clips play from."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from bachsurvey import session
from bachsurvey.models import AgeGroup, Category, Experience

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# Media are our own rendered clips and scores (no uploads); still, an SVG opened on its own must
# not run script or load anything.
_MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@require_safe
def quiz(request: HttpRequest) -> HttpResponse:
    """One page for the whole quiz; the script resumes the session's participant, if any."""
    state = {"participant": session.bound_participant_id(request)}
    return render(
        request,
        "quiz.html",
        {
            "state": state,
            "age_groups": AgeGroup.choices,
            "experiences": Experience.choices,
            "categories": {c.value: c.label for c in Category},
        },
    )


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: the process answers. Touches no database, on purpose: a
    PostgreSQL outage must not take every web process out of the pool (its requests answer 503
    with Retry-After; see db_outage). The load benchmark uses it as its trivial endpoint."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve MEDIA_ROOT with HTTP Range support: Safari plays no audio from a server without it.

    Used in every mode (django.views.static.serve has no Range support, and the browser tests run
    with DEBUG off); a large deployment can let its web server serve /media/ instead.
    """
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except SuspiciousFileOperation:
        raise Http404("No such file.") from None
    if not full.is_file():
        raise Http404("No such file.")
    size = full.stat().st_size
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match is None or match.groups() == ("", ""):
        response: HttpResponse = FileResponse(full.open("rb"), content_type=content_type)
    else:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:  # "bytes=-N": the last N bytes
            start, end = max(size - int(last), 0), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        with full.open("rb") as file:  # clips are a few hundred kB: read the slice at once
            file.seek(start)
            response = HttpResponse(file.read(end - start + 1), content_type=content_type)
        response.status_code = 206
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = _MEDIA_CSP
    return response
