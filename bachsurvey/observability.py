"""Seeing errors in production: one structured line per log record, each with its request id.

* **Request ids.** :class:`RequestIdMiddleware` takes the id nginx gives a request
  (``X-Request-ID``, set from ``$request_id`` in deploy/nginx.conf) when it looks like one, else
  makes one, keeps it for the request's log records and sends it back in ``X-Request-ID``, so a
  participant's report, nginx's log, gunicorn's access log and Django's traceback meet on it.
* **Lines.** With ``DJANGO_LOG_FORMAT=json`` (the default when debug is off) every record is one
  JSON object on stderr: time, level, logger, message, request id, and the traceback when there
  is one; in development, plain text.
* **Every 500** is logged by Django's ``django.request`` logger with its traceback; with
  ``DJANGO_ADMINS`` set (``Name <mail>, …``) it is also mailed to them (Django's
  ``AdminEmailHandler``, through ``DJANGO_EMAIL_HOST``:``DJANGO_EMAIL_PORT``, from
  ``DJANGO_SERVER_EMAIL``).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # nginx's $request_id is 32 hex digits
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    """Give each request an id (the proxy's, when well formed) for its log lines and reply."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if _VALID_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Stamp every record with the request id of the request being served ('-' outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback stays inside its string)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            line["status"] = status
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def admins_from(text: str | None) -> list[tuple[str, str]]:
    """``DJANGO_ADMINS``: ``Ada <ada@example.org>, bob@example.org`` -> Django's ADMINS."""
    if not text:
        return []
    admins = [(name or mail, mail) for name, mail in getaddresses([text]) if mail]
    if not admins or any("@" not in mail for _, mail in admins):
        raise ImproperlyConfigured(f"DJANGO_ADMINS must list mail addresses, got {text!r}")
    return admins


def logging_config(json_lines: bool, level: str, mail_admins: bool) -> dict[str, Any]:
    """Django's LOGGING: everything to stderr, 500s also to the admins when there are any."""
    handlers = ["console"] + (["mail_admins"] if mail_admins else [])
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "bachsurvey.observability.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "bachsurvey.observability.JsonFormatter"},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "json" if json_lines else "text",
            },
            "mail_admins": {
                "class": "django.utils.log.AdminEmailHandler",
                "level": "ERROR",
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Unhandled exceptions (500s) and 4xx warnings, with their tracebacks.
            "django.request": {"handlers": handlers, "level": "WARNING", "propagate": False},
            "django.security": {"handlers": handlers, "level": "WARNING", "propagate": False},
        },
    }
