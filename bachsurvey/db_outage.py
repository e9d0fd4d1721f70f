"""A database outage answers 503 with Retry-After, not 500.

While PostgreSQL restarts (or is unreachable), every query raises django.db.OperationalError or
InterfaceError. Left alone, each such request is a 500 "server error" with a traceback in the log,
which tells a client nothing about trying again. Here it becomes a 503 with `Retry-After`: a JSON
body for the API (the quiz page shows its `detail`), a short page otherwise.

Two hooks, because Django catches exceptions in two places:

- ``DatabaseOutageMiddleware.process_exception`` sees exceptions raised by views (DRF re-raises
  what it does not handle itself, and a database error is one of those);
- ``server_error`` (``handler500`` in urls.py) sees the rest: an exception raised inside another
  middleware, e.g. SessionMiddleware saving the session after the view has answered, never reaches
  any process_exception, and Django turns it into a 500 through handler500 while the exception is
  still being handled, so ``sys.exc_info()`` names it.

Nothing is retried on the server: a request that failed half-way has rolled back (every write
is one transaction), so the client's retry is the safe way to finish it.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults

logger = logging.getLogger(__name__)

# Seconds a client should wait: a PostgreSQL restart takes a few seconds, and retrying at once
# from every browser would only pile onto a server that is coming back.
RETRY_AFTER_SECONDS = 5
CODE = "database_unavailable"
# Lazy: read in the request's language when the reply is written.
MESSAGE = _(
    "The database is briefly unavailable; nothing was stored. Please try again in a moment."
)
_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Back in a moment</title>"
    "<h1>Back in a moment</h1><p>{message}</p></html>"
)
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 itself: JSON under /api/, a short HTML page elsewhere."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": str(MESSAGE), "code": CODE}, status=503)
    else:
        response = HttpResponse(_PAGE.format(message=MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"  # a proxy must not keep serving the outage page
    return response


def _is_database_error(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS)


class DatabaseOutageMiddleware:
    """Turns a database error raised by a view into a 503 (see the module docstring)."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _is_database_error(exception):
            return None  # anything else is a real bug: Django's 500 and its logging
        # A warning, not an error: the outage is logged once by whoever restarts PostgreSQL, and a
        # traceback per request would bury the log.
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 when the uncaught exception is a database error, else Django's 500."""
    if _is_database_error(sys.exc_info()[1]):
        return database_unavailable(request)
    return defaults.server_error(request)
