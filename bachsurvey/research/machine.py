"""Machine vs people: the machine judge's accuracy at telling generated clips from Bach's beside
the listeners' on the same pairs.

The judge runs offline (bachsurvey.generation.batch_judge) and its verdict is stored on each
batch (``Batch.judge``); this module only reads it, so the web processes never load the
composer. Per batch (the admin): the judge on the batch's pairs, and the listeners' answers on
the batch's questions. Per category (the dashboard): the judge pooled over the done batches with
questions in that category (sum of right / sum of excerpts judged), beside the listeners' cell
for that category. Every interval is the exact (Clopper–Pearson) 95% one, from scipy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q
from scipy.stats import binomtest

from bachsurvey.models import Batch, Question
from bachsurvey.research import records
from bachsurvey.research.stats import ALL, CATEGORIES


def exact(right: int, n: int) -> dict[str, Any]:
    """Accuracy and its Clopper–Pearson 95% interval; None for both when n is 0."""
    if n == 0:
        return {"n": 0, "right": 0, "accuracy": None, "interval": None}
    ci = binomtest(right, n).proportion_ci(confidence_level=0.95, method="exact")
    return {"n": n, "right": right, "accuracy": right / n, "interval": [ci.low, ci.high]}


def batch_listeners(batch: Batch) -> dict[str, Any]:
    """The listeners on ``batch``'s questions: right answers of all answers (withdrawn
    participants left out, as everywhere in the results), no exclusion rule applied."""
    answers = records.answers().filter(assignment__question__clip_generated__chorale__batch=batch)
    counts = answers.aggregate(n=Count("pk"), right=Count("pk", filter=Q(correct=True)))
    return exact(counts["right"], counts["n"])


def pooled(judged: Iterable[tuple[str, dict[str, Any] | None]]) -> dict[str, dict[str, Any]]:
    """The judge per category, from (category, Batch.judge) of each batch: right and excerpts
    summed over the batches the judge could judge, with the exact interval of the sum. Every
    category is there; one with no judged batch has accuracy None."""
    right: dict[str, int] = defaultdict(int)
    n: dict[str, int] = defaultdict(int)
    batches: dict[str, int] = defaultdict(int)
    for category, verdict in judged:
        if not verdict or verdict.get("accuracy") is None:
            continue
        right[category] += int(verdict["right"])
        n[category] += int(verdict["n"])
        batches[category] += 1
    return {c: {**exact(right[c], n[c]), "batches": batches[c]} for c in CATEGORIES}


def judged_batches() -> list[tuple[str, dict[str, Any] | None]]:
    """(category, verdict) of every done batch with questions, once per category it has."""
    pairs = set(
        Question.objects.filter(clip_generated__chorale__batch__status=Batch.Status.DONE)
        .values_list("category", "clip_generated__chorale__batch")
        .distinct()
    )
    verdicts = dict(Batch.objects.filter(pk__in={b for _, b in pairs}).values_list("pk", "judge"))
    return [(category, verdicts[batch]) for category, batch in sorted(pairs)]


def machine_vs_people(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per category: the judge pooled over batches, and the listeners' cell for it from
    ``stats.summarize`` (all experience bands, the dashboard's exclusions applied)."""
    judge = pooled(judged_batches())
    people = {c["category"]: c for c in cells if c["experience"] == ALL}
    return [
        {
            "category": category,
            "judge": judge[category],
            "people": {
                "n": people[category]["n"],
                "accuracy": people[category]["accuracy"],
                "interval": people[category]["clopper_pearson"],
            },
        }
        for category in CATEGORIES
    ]
