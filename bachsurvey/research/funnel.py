"""The participants' funnel: how many started, answered each question, finished, withdrew, and
where the others stopped.

A participant consents and gives their background in one step (``POST /api/participants/``), so
"started" means both. Withdrawing deletes the answers and the background and keeps a tombstone
(bachsurvey.quiz.services.withdraw): a withdrawn participant is counted as withdrawn, and where
they had got to is no longer known. A participant who has not finished is "abandoned at
question k" (they answered k − 1) once they started more than ``ABANDONED_AFTER`` ago, and "in
progress" before that. That split alone depends on the clock: it is read fresh on every load, the
rest is cached with the figures (bachsurvey.research.report).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from bachsurvey.models import Participant
from bachsurvey.quiz.services import QUESTIONS_PER_PARTICIPANT
from bachsurvey.research.records import EVERY_DAY, DateRange

# Five pairs of clips of about ten seconds take a few minutes; the clip URLs outlive a finished
# quiz by an hour (CLIP_URL_SECONDS). A quiz left unfinished this long has been left.
ABANDONED_AFTER = timedelta(hours=1)


def _share(n: int, of: int) -> float | None:
    return n / of if of else None


def _stages(answered: Counter[int], finished: int, total: int) -> list[dict[str, Any]]:
    stages = [{"stage": "stayed", "label": "started and did not withdraw", "n": total}]
    for k in range(1, QUESTIONS_PER_PARTICIPANT + 1):
        reached = sum(n for count, n in answered.items() if count >= k)
        stages.append({"stage": f"answered_{k}", "label": f"answered question {k}", "n": reached})
    stages.append({"stage": "finished", "label": "finished", "n": finished})
    for stage in stages:
        stage["share"] = _share(stage["n"], total)
    return stages


def tally(dates: DateRange = EVERY_DAY) -> dict[str, Any]:
    """The participants who started on ``dates``, by how far they got (no clock involved, so it
    is cached with the figures): withdrawn, finished, and answers given by those who have not
    withdrawn (``answered``) and by those who have not finished either (``open``)."""
    rows = (
        Participant.objects.filter(dates.within("created_at"))
        .annotate(answered=Count("assignments__answer"))
        .values_list("answered", "finished_at", "withdrawn_at")
    )
    answered: Counter[int] = Counter()
    open_: Counter[int] = Counter()
    started = withdrawn = finished = 0
    for count, finished_at, withdrawn_at in rows.iterator(chunk_size=5000):
        started += 1
        if withdrawn_at is not None:
            withdrawn += 1
            continue
        answered[count] += 1
        if finished_at is not None:
            finished += 1
        else:
            open_[count] += 1
    return {"started": started, "withdrawn": withdrawn, "finished": finished,
            "answered": dict(answered), "open": dict(open_)}  # fmt: skip


def _recent(dates: DateRange, cutoff: datetime) -> Counter[int]:
    """Answers given by each unfinished participant who started after ``cutoff``: the few
    still in progress, read fresh."""
    rows = (
        Participant.objects.filter(dates.within("created_at"))
        .filter(created_at__gte=cutoff, finished_at__isnull=True, withdrawn_at__isnull=True)
        .annotate(answered=Count("assignments__answer"))
        .values_list("answered", flat=True)
    )
    return Counter(rows)


def funnel(
    dates: DateRange = EVERY_DAY, now: datetime | None = None, counts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The funnel of the participants who started on ``dates``, from ``counts`` (``tally``'s,
    read now when not given).

    Shape: ``{"started", "withdrawn", "stages": [{stage, label, n, share}], "abandoned":
    [{question, n, share}], "in_progress"}``. ``stages`` and ``abandoned`` count the
    participants who have not withdrawn (``share`` is of them); ``started`` counts everyone.
    """
    counts = counts or tally(dates)
    recent = _recent(dates, (now or timezone.now()) - ABANDONED_AFTER)
    answered = Counter({int(k): n for k, n in counts["answered"].items()})
    open_ = Counter({int(k): n for k, n in counts["open"].items()})
    stayed = counts["started"] - counts["withdrawn"]
    # Stopped before answering question k + 1, and not recently started.
    abandoned = {k + 1: max(open_[k] - recent[k], 0) for k in range(QUESTIONS_PER_PARTICIPANT)}
    return {
        "started": counts["started"],
        "withdrawn": counts["withdrawn"],
        "stages": _stages(answered, counts["finished"], stayed),
        "abandoned": [
            {"question": k, "n": n, "share": _share(n, stayed)} for k, n in abandoned.items()
        ],
        "in_progress": sum(recent.values()),
        "abandoned_after_minutes": int(ABANDONED_AFTER.total_seconds() // 60),
    }
