"""A participant's results: their score beside everyone's so far, from a shared snapshot.

Everyone's figures aggregate every answer, so their cost grows with the survey; they are
computed at most once per EVERYONE_CACHE_SECONDS by one request while the others serve the
previous snapshot (see below), and a participant's own newer answers are added to it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Count, F, Q
from django.utils import timezone

from bachsurvey.models import Answer, Category, Participant
from bachsurvey.quiz.services import QUESTIONS_PER_PARTICIPANT
from bachsurvey.quiz.sql import Quiz


@dataclass(frozen=True)
class CategoryResult:
    category: str
    label: str
    your_correct: int
    your_answered: int
    everyone_correct: int
    everyone_answered: int

    @property
    def everyone_accuracy(self) -> float | None:
        return self.everyone_correct / self.everyone_answered if self.everyone_answered else None


@dataclass(frozen=True)
class Results:
    correct: int
    answered: int
    categories: list[CategoryResult]
    everyone_participants: int
    everyone_correct: int
    everyone_answered: int
    score_distribution: list[int]  # finished participants by number of correct answers, 0..5


# Everyone's figures aggregate every answer, so their cost grows with the survey: at a few
# thousand answers they were most of a results request, and on a busy day they would be all of
# it. They are computed at most once per EVERYONE_CACHE_SECONDS per cache (per process with the
# default local-memory cache, once for all processes with Redis), by one request while the others
# go on with the previous snapshot: when every web process recomputed it at once, each expiry put
# that many copies of the aggregation on PostgreSQL (about 0.1 s each at 50,000 answers) and
# into the latency of the answers waiting behind them. So everyone's figures may lag others'
# latest answers by up to twice EVERYONE_CACHE_SECONDS; a participant's own answers always count
# (see results()).
EVERYONE_CACHE_SECONDS = 10
_EVERYONE_KEY = "bachsurvey:results:everyone"
_EVERYONE_REFRESH_KEY = "bachsurvey:results:everyone:refreshing"
_EVERYONE_KEPT_SECONDS = 3600  # a stale snapshot, served while one request renews it


@dataclass(frozen=True)
class Everyone:
    """Everyone's figures as of ``until``: answers stored and participants finished by then."""

    until: datetime
    by_category: dict[str, tuple[int, int]]  # answered, correct
    participants: int
    distribution: list[int]  # finished participants by number of correct answers, 0..5


def _everyone(until: datetime) -> Everyone:
    answers = Answer.objects.filter(created_at__lte=until)
    rows = answers.values(category=F("assignment__question__category")).annotate(
        n=Count("id"), correct=Count("id", filter=Q(correct=True))
    )
    scores = (
        Participant.objects.filter(finished_at__lte=until, withdrawn_at__isnull=True)
        .annotate(score=Count("assignments", filter=Q(assignments__answer__correct=True)))
        .values_list("score", flat=True)
    )
    distribution = [0] * (QUESTIONS_PER_PARTICIPANT + 1)
    for score in scores:
        distribution[min(score, QUESTIONS_PER_PARTICIPANT)] += 1
    return Everyone(
        until=until,
        by_category={row["category"]: (row["n"], row["correct"]) for row in rows},
        participants=answers.values("assignment__participant").distinct().count(),
        distribution=distribution,
    )


def everyone_so_far() -> Everyone:
    """Everyone's figures: the cached snapshot while it is recent; when it is older than
    EVERYONE_CACHE_SECONDS, the first request to see that (of all processes sharing the cache)
    renews it and the others serve the old one meanwhile; without any snapshot, a new one."""
    now = timezone.now()
    try:
        snapshot = cache.get(_EVERYONE_KEY)
        stale = snapshot is not None and (now - snapshot.until).total_seconds() >= (
            EVERYONE_CACHE_SECONDS
        )
        if stale and not cache.add(_EVERYONE_REFRESH_KEY, True, EVERYONE_CACHE_SECONDS):
            return snapshot  # another request is renewing it
    except Exception:  # a cache that is down (Redis) costs freshness, never the request
        snapshot, stale = None, False
    if snapshot is None or stale:
        snapshot = _everyone(until=now)
        try:
            cache.set(_EVERYONE_KEY, snapshot, _EVERYONE_KEPT_SECONDS)
        except Exception:
            pass
    return snapshot


def results(quiz: Quiz) -> Results:
    """The participant's score and everyone's so far (withdrawn answers are already deleted).

    Everyone's figures come from a snapshot up to about twice EVERYONE_CACHE_SECONDS old (see
    everyone_so_far); the participant's own answers (and finish) that are newer than the
    snapshot are added to it, so "everyone" never shows less than "you".
    """
    mine = [(i.category, i.correct, i.answered_at) for i in quiz.items if i.answered]
    snapshot = everyone_so_far()
    yours: Counter[tuple[str, bool]] = Counter((category, ok) for category, ok, _ in mine)
    newer: Counter[tuple[str, bool]] = Counter(
        (category, ok) for category, ok, at in mine if at > snapshot.until
    )
    categories = []
    for category in Category:
        answered, correct = snapshot.by_category.get(category, (0, 0))
        categories.append(
            CategoryResult(
                category=category.value,
                label=category.label,
                your_correct=yours[(category, True)],
                your_answered=yours[(category, True)] + yours[(category, False)],
                everyone_correct=correct + newer[(category, True)],
                everyone_answered=answered + newer[(category, True)] + newer[(category, False)],
            )
        )
    correct = sum(c.your_correct for c in categories)
    distribution = list(snapshot.distribution)
    finished = quiz.finished_at
    if finished is not None and finished > snapshot.until and not quiz.withdrawn:
        distribution[min(correct, QUESTIONS_PER_PARTICIPANT)] += 1
    counted = any(at <= snapshot.until for *_, at in mine)  # the snapshot holds you already
    return Results(
        correct=correct,
        answered=len(mine),
        categories=categories,
        everyone_participants=snapshot.participants + (1 if mine and not counted else 0),
        everyone_correct=sum(c.everyone_correct for c in categories),
        everyone_answered=sum(c.everyone_answered for c in categories),
        score_distribution=distribution,
    )
