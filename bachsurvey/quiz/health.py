"""Can the live pool still build a quiz? What the admin shows before it takes questions off the
quiz, and on its index page, so that no click turns every new participant into a 503.

A quiz is five questions, one per slot of ``services.SLOTS``, with no chorale twice; whether the
pool can fill one is decided by drawing one (seeded), as a participant's start would.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bachsurvey.models import Category
from bachsurvey.quiz import errors, services, sql


@dataclass(frozen=True)
class Health:
    live: dict[str, int]  # live questions per category, every category listed
    can_build_quiz: bool

    @property
    def total(self) -> int:
        return sum(self.live.values())

    def describe(self) -> str:
        counts = ", ".join(f"{category} {count}" for category, count in self.live.items())
        verdict = "a quiz can be drawn" if self.can_build_quiz else "NO quiz can be drawn"
        return f"{self.total} live ({counts}): {verdict}"


def health(without: Iterable[uuid.UUID] = ()) -> Health:
    """The live pool now, or as it would be without the questions ``without``."""
    gone = {uuid.UUID(str(pk)) for pk in without}
    pool = [q for q in sql.live_questions() if q.pk not in gone]
    counts = Counter(q.category for q in pool)
    try:
        services.draw_from(pool, random.Random(0))
        drawable = True
    except errors.NotEnoughQuestions:
        drawable = False
    return Health({c.value: counts.get(c.value, 0) for c in Category}, drawable)
