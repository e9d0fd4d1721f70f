"""Rate limits of the participant API: DRF throttles counting in Django's cache.

* New participants per client address per hour (settings.RATE_LIMIT_PARTICIPANTS).
* Answers per participant per minute (settings.RATE_LIMIT_ANSWERS).
* Withdrawal codes tried per client address per hour (settings.RATE_LIMIT_WITHDRAWALS), on the
  /withdraw/ page (bachsurvey.consent.views): codes are too many to guess, at this pace.

0 switches a limit off. The rates are read from settings at each request (DRF makes a throttle
per request), so a test or a deployment changes them without a restart. Over a limit the view
answers 429 with Retry-After and a JSON body {"detail", "code": "rate_limited"} (RateLimited).

DRF's sliding window reads the request history from the cache and writes it back, so requests
that race each other in different processes may all pass: the limits are approximate under a
burst, which is enough to stop a script from flooding the survey. A cache that fails (Redis down)
lets requests through: the survey matters more than its rate limits.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from bachsurvey.client import client_address
from bachsurvey.quiz import session

logger = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"


class RateLimited(Throttled):
    """429 with our error shape ({"detail", "code"}) and Retry-After in whole seconds."""

    def __init__(self, wait: float | None, template: str) -> None:
        """``template`` says what was limited, with ``{wait}`` for when to try again (a lazy
        translation: it is read in the request's language)."""
        seconds = None if wait is None else max(1, math.ceil(wait))
        detail = {"detail": template.format(wait=in_words(seconds)), "code": RATE_LIMITED}
        super().__init__(detail=detail)  # no wait here: DRF would append its own sentence
        self.wait = seconds  # DRF's exception handler sends it as Retry-After


def in_words(seconds: int | None) -> str:
    """'in 3 minutes', 'in 1 second'; for the people reading a refusal, in their language.
    The refusals put it where "later" fits (…please try again {wait}.), in every language."""
    if seconds is None:
        return gettext("later")
    if seconds > 90:
        minutes = math.ceil(seconds / 60)
        return ngettext("in %(count)d minute", "in %(count)d minutes", minutes) % {"count": minutes}
    return ngettext("in %(count)d second", "in %(count)d seconds", seconds) % {"count": seconds}


class RateLimit(SimpleRateThrottle):
    """A SimpleRateThrottle whose rate per ``period`` comes from the setting ``setting``."""

    setting: str
    period: str  # DRF's period word: "second", "minute", "hour" or "day"

    def get_rate(self) -> str | None:
        limit: int = getattr(settings, self.setting)
        return f"{limit}/{self.period}" if limit > 0 else None  # None: DRF lets all through

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            logger.warning("rate limit %s not applied: the cache failed: %s", self.scope, error)
            return True


class ParticipantCreationThrottle(RateLimit):
    scope = "participants"
    setting = "RATE_LIMIT_PARTICIPANTS"
    period = "hour"
    message = _("Too many new quizzes from your network in the last hour; please try again {wait}.")

    def get_cache_key(self, request: Request, view: APIView) -> str:
        ident = client_address(request) or "unknown"  # a Unix socket: no address
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnswerThrottle(RateLimit):
    scope = "answers"
    setting = "RATE_LIMIT_ANSWERS"
    period = "minute"
    message = _("Too many answers in a minute; please wait and try again {wait}.")

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        participant_id = str(view.kwargs.get("participant_id"))
        # Only this browser's own participant is counted: a request for anyone else's id is
        # answered 404 by the view, and must not use up that participant's allowance.
        if participant_id != session.bound_participant_id(request._request):
            return None
        return self.cache_format % {"scope": self.scope, "ident": participant_id}


class WithdrawalCodeThrottle(RateLimit):
    """Used by a plain Django view (the /withdraw/ page), which calls allow_request itself."""

    scope = "withdrawals"
    setting = "RATE_LIMIT_WITHDRAWALS"
    period = "hour"
    message = _("Too many withdrawal codes tried from your network; please try again {wait}.")

    def get_cache_key(self, request: Request, view: APIView | None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}
