"""The dashboard's figures and plots, computed once per state of the answers and kept in the
cache (Django's, Redis with CACHE_URL).

Reading every answer, fitting the mixed model and drawing the plots takes seconds at 100,000
answers; a dashboard that nothing has changed since needs none of it. The cache key is a
fingerprint of what the figures depend on, read in a few cheap queries — the answers' count and
highest id (an answer stored or deleted changes one of them: ids only grow), how many
participants there are, have finished and have withdrawn (the funnel), and the batches' ids and
names (the breakdowns' labels) — together with the query (exclusions, dates). Only the funnel's
split between "in progress" and "abandoned" depends on the clock; it is read fresh
(``funnel.funnel``). Nothing has to invalidate an entry: a new state simply has a
new key, and old entries expire. A cache that fails (Redis down) costs the speed, never the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Max, Q
from redis.exceptions import RedisError

from bachsurvey.models import Answer, Batch, Participant
from bachsurvey.research import breakdowns, funnel, plots, records
from bachsurvey.research.records import DateRange
from bachsurvey.research.stats import Exclusions

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Old states are never read again; a week keeps an idle dashboard's entry alive between visits.
CACHE_SECONDS = 7 * 24 * 3600
# Part of every key: bump it when what is cached changes shape, so that no process reads an
# entry a previous version wrote.
VERSION = 1


def fingerprint() -> str:
    """A digest of everything the cached figures are computed from."""
    answers = Answer.objects.aggregate(n=Count("pk"), last=Max("pk"))
    people = Participant.objects.aggregate(
        n=Count("pk"),
        finished=Count("pk", filter=Q(finished_at__isnull=False)),
        withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False)),
    )
    batches = list(Batch.objects.order_by("pk").values_list("pk", "name"))
    state = [VERSION, answers, people, batches]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()


def cache_key(kind: str, params: dict[str, str]) -> str:
    query = json.dumps(sorted(params.items()))
    digest = hashlib.sha256(f"{fingerprint()}|{query}".encode()).hexdigest()
    return f"research:{kind}:{digest}"


def cached(kind: str, params: dict[str, str], compute: Callable[[], T]) -> T:
    """``compute()``'s value for this state of the answers and ``params``, from the cache when
    it is there; on a cache error, computed afresh."""
    key = cache_key(kind, params)
    try:
        value = cache.get(key)
    except RedisError as error:
        logger.warning("research cache unavailable, computing afresh: %s", error)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, CACHE_SECONDS)
        except RedisError as error:
            logger.warning("research cache unavailable, not stored: %s", error)
    return value


def dashboard(exclusions: Exclusions, dates: DateRange, params: dict[str, str]) -> dict[str, Any]:
    """``{"result": stats.summarize's dict, "plots": [...], "breakdowns": [...]}``."""

    def compute() -> dict[str, Any]:
        result, kept = records.summary(exclusions, dates)
        return {
            "result": result,
            "plots": plots.dashboard_plots(result, kept),
            "breakdowns": breakdowns.breakdowns(kept),
            "funnel": funnel.tally(dates),
        }

    return cached("dashboard", params, compute)


def summary(
    exclusions: Exclusions, dates: DateRange, params: dict[str, str], *, fit_model: bool = True
) -> dict[str, Any]:
    """``records.summary``'s figures (the API's), cached like the dashboard."""
    kind = "summary" if fit_model else "tables"
    return cached(kind, params, lambda: records.summary(exclusions, dates, fit_model=fit_model)[0])


def plot_file(
    name: str, fmt: str, exclusions: Exclusions, dates: DateRange, params: dict[str, str]
) -> bytes:
    """Plot ``name`` as an SVG or PNG file (``plots.download``), cached."""

    def compute() -> bytes:
        result, kept = records.summary(exclusions, dates, fit_model=False)
        return plots.download(name, fmt, result, kept)

    return cached(f"plot:{name}.{fmt}", params, compute)
