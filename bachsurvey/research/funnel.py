"""The participants' funnel: how many started, answered each question, finished, withdrew, and
where the others stopped.

A participant consents and gives their background in one step (``POST /api/participants/``), so
"started" means both. Withdrawing deletes the answers and the background and keeps a tombstone
(bachsurvey.quiz.services.withdraw): a withdrawn participant is counted as withdrawn, and where
they had got to is no longer known. A participant who has not finished is "abandoned at
question k" (they answered k − 1) once they started more than ``ABANDONED_AFTER`` ago, and "in
progress" before that; so the funnel is read fresh on every load, never cached.
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


def funnel(dates: DateRange = EVERY_DAY, now: datetime | None = None) -> dict[str, Any]:
    """The funnel of the participants who started on ``dates``.

    Shape: ``{"started", "withdrawn", "stages": [{stage, label, n, share}], "abandoned":
    [{question, n, share}], "in_progress"}``. ``stages`` and ``abandoned`` count the
    participants who have not withdrawn (``share`` is of them); ``started`` counts everyone.
    """
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    rows = (
        Participant.objects.filter(dates.within("created_at"))
        .annotate(answered=Count("assignments__answer"))
        .values_list("answered", "finished_at", "withdrawn_at", "created_at")
    )
    answered: Counter[int] = Counter()
    abandoned: Counter[int] = Counter()
    started = withdrawn = finished = in_progress = 0
    for count, finished_at, withdrawn_at, created_at in rows.iterator(chunk_size=5000):
        started += 1
        if withdrawn_at is not None:
            withdrawn += 1
            continue
        answered[count] += 1
        if finished_at is not None:
            finished += 1
        elif created_at < cutoff:
            abandoned[count + 1] += 1  # stopped before answering question count + 1
        else:
            in_progress += 1
    stayed = started - withdrawn
    return {
        "started": started,
        "withdrawn": withdrawn,
        "stages": _stages(answered, finished, stayed),
        "abandoned": [
            {"question": k, "n": abandoned[k], "share": _share(abandoned[k], stayed)}
            for k in range(1, QUESTIONS_PER_PARTICIPANT + 1)
        ],
        "in_progress": in_progress,
        "abandoned_after_minutes": int(ABANDONED_AFTER.total_seconds() // 60),
    }
