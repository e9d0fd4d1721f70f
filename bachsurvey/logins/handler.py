"""Axes' database handler with a second limit: failures for one user name from any address.

Axes counts failures per AXES_LOCKOUT_PARAMETERS (here the pair user name and address) against
one limit. A user name guessed from many addresses (a botnet) would get that limit from each of
them, so a larger one, settings.LOGIN_USER_FAILURE_LIMIT, caps the user name's failures from all
addresses together. Its price: whoever knows a user name can lock it out by failing that often,
until staff reset it (admin.py) or the failures are forgotten. Wrong API tokens are exempt from
it: they name no user (lockout.TOKEN_USER), so everyone's tokens would be locked out at once.
"""

from __future__ import annotations

from datetime import datetime

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest

from bachsurvey.logins.lockout import TOKEN_USER


def limits(username: str | None, address: str | None) -> list[tuple[dict, int]]:
    """(AccessAttempt filter, failure limit) for each way the pair can be locked out; a limit
    of 0 is off."""
    user_limit = 0 if username == TOKEN_USER else settings.LOGIN_USER_FAILURE_LIMIT
    return [
        ({"username": username, "ip_address": address}, settings.LOGIN_FAILURE_LIMIT),
        ({"username": username}, user_limit),
    ]


class LockoutHandler(AxesDatabaseHandler):
    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        return self.locked_until(request, credentials) is not None

    def locked_until(
        self, request: HttpRequest, credentials: dict | None = None
    ) -> datetime | None:
        """When the last lockout that applies to this login ends, or None if none applies.

        Refused logins are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off),
        so a lockout's last failure is the one that started it and it ends a cool-off later.
        """
        username = get_client_username(request, credentials)
        current = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        ends = []
        for lookup, limit in limits(username, request.axes_ip_address):  # type: ignore[attr-defined]
            if limit <= 0:
                continue
            counted = current.filter(**lookup).aggregate(
                failures=Sum("failures_since_start"), last=Max("attempt_time")
            )
            if (counted["failures"] or 0) >= limit:
                ends.append(counted["last"] + get_cool_off(request))
        return max(ends, default=None)
