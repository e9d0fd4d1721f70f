"""Request headers no HTTP server delivers are refused (400, naming the header) before anything
reads them: a NUL (RFC 9110 forbids it in a field value) or a character past U+00FF.

A WSGI or ASGI server hands Django each header's bytes decoded as Latin-1, so a real request
never holds a lone surrogate; a server that let one through (or a test client) would make
Django's CSRF check, the session, DRF's token check and JSON error replies fail to encode it,
a 500. First in settings.MIDDLEWARE, and asked by the WSGI fast path of clips (clip_fast), which
then leaves the request to Django and so to this refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse


def _readable(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def unreadable_header(environ: Mapping[str, Any]) -> str | None:
    """The name of the first header in ``environ`` (WSGI's keys) that no server sends, or None."""
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if isinstance(value, str) and not _readable(value):
                return key.removeprefix("HTTP_").replace("_", "-").title()
    return None


class HostileHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = unreadable_header(request.META)
        if name is None:
            return self.get_response(request)
        detail = f"The {name} header holds a NUL or a character that no HTTP header can carry."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail, "code": "bad_header"}, status=400)
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
