"""How a clip or score file is answered: the one byte range asked for, and the headers.

Both sides of a question get the same headers: type, length, range, and a fixed set that says
nothing of the file (no Last-Modified, no ETag, no file name). Behind nginx
(MEDIA_ACCEL_REDIRECT) the application only decides, and nginx sends the bytes from its internal
location (deploy/nginx.conf), adding CSP and nosniff there. Shared by the Django views and the
WSGI fast path of participants' audio (bachsurvey.quiz.clip_fast).
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils._os import safe_join

# One byte range; more than 15 digits is no file of ours (and would make int() slow).
_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")
# Media are our own rendered clips and scores (no uploads); still, an SVG opened on its own must
# not run script or load anything.
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CACHE_CONTROL = "private, max-age=3600"


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


def content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def common_headers() -> list[tuple[str, str]]:
    """Headers every clip and score response carries, whatever the file and whoever sends it."""
    return [("Cache-Control", CACHE_CONTROL), ("Content-Security-Policy", MEDIA_CSP)]


def own_headers(name: str) -> list[tuple[str, str]]:
    """The headers of an answer Django sends with the bytes itself (and so its ranges)."""
    return [("Content-Type", content_type(name)), ("Accept-Ranges", "bytes"), *common_headers()]


def accel_headers(name: str) -> list[tuple[str, str]]:
    """The headers of an answer nginx completes from MEDIA_ACCEL_REDIRECT (no body); nginx sends
    the bytes, and its own Accept-Ranges with them."""
    return [
        ("Content-Type", content_type(name)),
        ("X-Accel-Redirect", f"{settings.MEDIA_ACCEL_REDIRECT}{name}"),
        *common_headers(),
    ]


def file_response(request: HttpRequest, name: str, size: int) -> HttpResponse:
    """The file ``name`` under MEDIA_ROOT, whole or the one range asked for; behind nginx
    (MEDIA_ACCEL_REDIRECT) only the headers that tell it which file to send."""
    try:
        wanted = requested_range(request.headers.get("Range", ""), size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = wanted or (0, size - 1)
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse()
        headers = accel_headers(name)
    else:
        with Path(safe_join(settings.MEDIA_ROOT, name)).open("rb") as file:
            file.seek(first)  # clips are a few hundred kB: read the slice at once
            response = HttpResponse(file.read(last - first + 1))
        headers = own_headers(name)
        if wanted is not None:
            response.status_code = 206
            response["Content-Range"] = f"bytes {first}-{last}/{size}"
    for header, value in headers:
        response[header] = value
    response.sent_range = (first, last)  # type: ignore[attr-defined]
    return response
