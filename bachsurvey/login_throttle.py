"""Failed logins counted per client address; past a limit the address is locked out a while.

Both login pages (the admin's and the researchers' /accounts/login/) use these forms, and the
API's token authentication (LockoutTokenAuthentication; the API takes no passwords: no HTTP
Basic, see settings.REST_FRAMEWORK) counts a wrong token the same way. After
settings.LOGIN_FAILURE_LIMIT failures from one address, every login from it is refused, a right
password too (else a guesser would still learn when it guessed right), until
settings.LOGIN_LOCKOUT_SECONDS after its first counted failure. The page says so, with HTTP 429
and Retry-After (refuse_locked_out).

Why not django-axes: it would add a table, a middleware and an authentication backend that every
authenticate() call then needs a request for; two forms and a counter in the cache that the rate
limits already use (bachsurvey.quiz.throttles) do what is needed here. Like the rate limits, a
failing cache lets logins through rather than locking researchers out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from redis.exceptions import RedisError
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from bachsurvey.client import client_address

logger = logging.getLogger(__name__)

LOCKED_OUT = "locked_out"


def _keys(address: str) -> tuple[str, str]:
    return f"login-failures:{address}", f"login-failures-since:{address}"


def locked_for(address: str) -> int | None:
    """Seconds until ``address`` may try again, or None when it is not locked out."""
    limit = settings.LOGIN_FAILURE_LIMIT
    if limit <= 0:
        return None
    count_key, since_key = _keys(address)
    try:
        counts = cache.get_many([count_key, since_key])
    except RedisError as error:
        logger.warning("login lockout not checked: the cache failed: %s", error)
        return None
    if counts.get(count_key, 0) < limit:
        return None
    since = counts.get(since_key, time.time())
    return max(1, math.ceil(since + settings.LOGIN_LOCKOUT_SECONDS - time.time()))


def record_failure(address: str) -> None:
    if settings.LOGIN_FAILURE_LIMIT <= 0:
        return
    count_key, since_key = _keys(address)
    window = settings.LOGIN_LOCKOUT_SECONDS
    try:
        # add() writes only where nothing is: the first failure starts the window.
        cache.add(since_key, time.time(), window)
        cache.add(count_key, 0, window)
        try:
            cache.incr(count_key)  # atomic in Redis: concurrent failures all count
        except ValueError:  # the key expired between add and incr: a new window
            cache.set(count_key, 1, window)
    except RedisError as error:
        logger.warning("failed login not counted: the cache failed: %s", error)


def _minutes(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _refusal(seconds: int) -> str:
    return (
        "Too many failed logins from your address. Logins from it are refused for "
        f"{_minutes(seconds)}; please try again then."
    )


class LockoutMixin:
    """For an AuthenticationForm: refuse a locked-out address, count each failed login."""

    request: HttpRequest | None
    locked_out_for: int | None = None  # seconds, set when this form refused a locked-out address

    def clean(self) -> dict[str, Any]:
        address = client_address(self.request) if self.request is not None else "unknown"
        self.locked_out_for = locked_for(address)
        if self.locked_out_for is not None:
            raise forms.ValidationError(_refusal(self.locked_out_for), code=LOCKED_OUT)
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            record_failure(address)
            raise


class ThrottledAuthenticationForm(LockoutMixin, AuthenticationForm):
    """The researchers' login page."""


class ThrottledAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's login page (admin.site.login_form)."""


def refuse_locked_out(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A login view whose page, when it refused a locked-out address, answers 429 with
    Retry-After (the page and its message are unchanged), so scripts see the refusal too."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        seconds = getattr(form, "locked_out_for", None)
        if seconds is not None:
            response.status_code = 429
            response["Retry-After"] = str(seconds)
        return response

    return wrapped


class LockoutTokenAuthentication(TokenAuthentication):
    """``Authorization: Token …`` under the same lockout: a locked-out address is refused (429
    with Retry-After), a right token too, and each wrong token counts as a failed login."""

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        if not request.META.get("HTTP_AUTHORIZATION", "").lstrip().lower().startswith("token"):
            return None  # no token offered: nothing to count
        address = client_address(request._request)
        seconds = locked_for(address)
        if seconds is not None:
            raise Throttled(seconds, _refusal(seconds))
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            record_failure(address)
            raise
