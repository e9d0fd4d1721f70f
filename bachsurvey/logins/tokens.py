"""``Authorization: Token …`` under the lockout: a wrong token counts as a failed login for the
user name lockout.TOKEN_USER at the client's address (a wrong token names no user), and once
there are enough, tokens from that address are refused (429 with Retry-After), a right one too."""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from bachsurvey.logins import lockout


class LockoutTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        if not request.META.get("HTTP_AUTHORIZATION", "").lstrip().lower().startswith("token"):
            return None  # no token offered: nothing to count
        django_request = request._request  # axes notes its findings on Django's request
        with lockout.one_at_a_time(django_request, lockout.TOKEN_USER):
            seconds = lockout.locked_for(django_request, lockout.TOKEN_USER)
            if seconds is not None:
                raise Throttled(
                    seconds, lockout.refusal(seconds, "Too many wrong API tokens from your address")
                )
            try:
                return super().authenticate(request)
            except AuthenticationFailed:
                # The signal Django's authenticate() sends for a wrong password: axes counts it.
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": lockout.TOKEN_USER},
                    request=django_request,
                )
                raise
