"""The quiz page, and the clips and scores: participants' own URLs, and the files for staff."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from bachsurvey import clip_urls, quiz_rows, session
from bachsurvey.models import AgeGroup, Category, Experience

# One byte range; more than 15 digits is no file of ours (and would make int() slow).
_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")
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
def assignment_media(request: HttpRequest, token: str) -> HttpResponse:
    """A clip's audio or score through its participant's own URL (bachsurvey.clip_urls).

    404 for anything that is not this browser's participant's own, live URL: a forged token,
    another browser, a withdrawn participant, a score before its answer, an expired URL.
    Every request for audio records the bytes it is answered with.
    """
    grant = clip_urls.read_token(token)
    row = None if grant is None else quiz_rows.media_row(grant.media_key)
    if (
        grant is None
        or row is None
        or str(row.participant_id) != session.bound_participant_id(request)
        or clip_urls.expired(row)
        or (grant.kind == "score" and not row.answered)
    ):
        raise Http404("No such clip.")
    if grant.kind == "score":
        name = row.score[grant.side]
        return _file_response(request, name, _size(name))
    name, size = row.audio[grant.side], row.audio_bytes[grant.side] or _size(row.audio[grant.side])
    response = _file_response(request, name, size)
    if request.method == "GET" and response.status_code in (200, 206):
        first, last = response.sent_range  # type: ignore[attr-defined]
        clip_urls.record_delivery(row.assignment_id, grant.side, first, last)
    return response


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse:
    """MEDIA_ROOT for staff (the admin's review pages), with HTTP Range.

    Participants never come here: their clips have URLs of their own (assignment_media), and a
    stored file name must not open anything for them.
    """
    if not (request.user.is_active and request.user.is_staff):
        raise Http404("No such file.")
    try:
        Path(safe_join(settings.MEDIA_ROOT, path))
    except SuspiciousFileOperation:
        raise Http404("No such file.") from None
    return _file_response(request, path, _size(path))


def _size(name: str) -> int:
    full = Path(safe_join(settings.MEDIA_ROOT, name))
    if not full.is_file():
        raise Http404("No such file.")
    return full.stat().st_size


def requested_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks of a ``size``-byte file.

    None when the header is absent or not one plain byte range (the whole file is sent, as
    nginx does with ``max_ranges 1``); ValueError when the range lies outside the file (416).
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(size - int(last), 0), size - 1
    if start > end or start >= size:
        raise ValueError(f"bytes {header!r} lie outside a {size}-byte file")
    return start, end


def _file_response(request: HttpRequest, name: str, size: int) -> HttpResponse:
    """The file ``name`` under MEDIA_ROOT, whole or the one range asked for.

    Both sides of a question get the same headers: type, length, range, and a fixed set
    that says nothing of the file (no Last-Modified, no ETag, no file name). Behind nginx
    (MEDIA_ACCEL_REDIRECT) Django only decides, and nginx sends the bytes.
    """
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        wanted = requested_range(request.headers.get("Range", ""), size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = wanted or (0, size - 1)
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + name
    else:
        with Path(safe_join(settings.MEDIA_ROOT, name)).open("rb") as file:
            file.seek(first)  # clips are a few hundred kB: read the slice at once
            response = HttpResponse(file.read(last - first + 1), content_type=content_type)
        if wanted is not None:
            response.status_code = 206
            response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response.sent_range = (first, last)  # type: ignore[attr-defined]
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = _MEDIA_CSP
    return response
