"""The public results page (/results/): everyone's accuracy per kind of question, with 95%
intervals, for anyone (the quiz's share link). No personal data: counts per category only.

Read from the snapshot the quiz's results already share (quiz.scores.everyone_so_far, renewed at
most every EVERYONE_CACHE_SECONDS), and the page itself is cached that long, so a shared link
going round costs the database nothing more. All answers count: no exclusion rule is applied
here (the researchers' dashboard has them).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_page
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from bachsurvey.models import Category
from bachsurvey.quiz.scores import EVERYONE_CACHE_SECONDS, everyone_so_far
from bachsurvey.research.stats import cell


def public_rows() -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Per category (with answers) its figures (stats.cell: n, accuracy, Wilson interval…),
    all categories together, and how many people answered."""
    snapshot = everyone_so_far()
    rows = []
    for category in Category:
        answered, correct = snapshot.by_category.get(category.value, (0, 0))
        if answered:
            rows.append({"label": category.label, **cell(answered, correct, category=category)})
    n = sum(row["n"] for row in rows)
    overall = cell(n, sum(row["correct"] for row in rows))
    return rows, overall, snapshot.participants


@require_safe
@vary_on_headers()  # the same page for everyone: it reads no cookie
@cache_page(EVERYONE_CACHE_SECONDS)
def public_results(request: HttpRequest) -> HttpResponse:
    rows, overall, participants = public_rows()
    context = {"rows": rows, "overall": overall, "participants": participants}
    response = render(request, "results.html", context)
    response["Cache-Control"] = f"public, max-age={EVERYONE_CACHE_SECONDS}"
    return response
