"""A participant's audio decided before Django's request machinery: the quiz's busiest request.

Ten of a participant's eighteen requests are for audio. Behind nginx, Django only decides who may
have a clip and nginx sends it (X-Accel-Redirect), yet a request through Django's handler and
middleware that did nothing else still cost the load benchmark more than a quarter of its
answers per second. So ``wrap`` puts this in front of Django's WSGI application: a GET or HEAD
of an audio URL (``/m/<token>``, bachsurvey.quiz.clip_urls) whose session holds the clip is checked
against the session and the shared cache, its range noted there, and answered for nginx to
complete, with the headers Django would give (bachsurvey.quiz.clip_files).

It answers only when it can decide alone and the answer is yes; everything else goes on to
Django (views.assignment_media), which decides the same way from the database: no
MEDIA_ACCEL_REDIRECT or no shared cache, another method, a score, a token it cannot read, a
session without the clip, a range outside the file, an expired URL, a cache that fails, a header
that no server sends (bachsurvey.hostile_headers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any

from django.conf import settings
from django.http.cookie import parse_cookie

from bachsurvey.hostile_headers import unreadable_header
from bachsurvey.quiz import clip_files, clip_urls

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def decide(environ: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The headers of a yes for nginx to complete, or None: Django decides."""
    if not settings.MEDIA_ACCEL_REDIRECT or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    path = environ.get("PATH_INFO", "")
    if not path.startswith(clip_urls.URL_PREFIX) or unreadable_header(environ) is not None:
        return None
    grant = clip_urls.read_token(path[len(clip_urls.URL_PREFIX) :])
    session_key = parse_cookie(environ.get("HTTP_COOKIE", "")).get(settings.SESSION_COOKIE_NAME)
    if grant is None or grant.kind != "audio" or not session_key:
        return None
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    clip = clip_urls.session_clip(session, grant)
    if clip is None:
        return None
    try:
        wanted = clip_files.requested_range(environ.get("HTTP_RANGE", ""), clip.size)
    except ValueError:
        return None
    if environ["REQUEST_METHOD"] == "GET":
        still_open = clip_urls.note_sent(clip, *(wanted or (0, clip.size - 1)))
    else:
        still_open = clip_urls.is_open(clip)
    return clip_files.accel_headers(clip.audio) if still_open else None


def wrap(django_app: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = decide(environ)
        if headers is None:
            return django_app(environ, start_response)
        start_response("200 OK", [*headers, ("Content-Length", "0")])
        return [b""]

    return application
