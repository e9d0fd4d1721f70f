"""The researchers' dashboard page, and who may see it.

Anonymous visitors are sent to the login page (Django's own, at /accounts/login/); a logged-in
user outside the "researcher" group, or a quiz participant's browser, gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from bachsurvey.quiz import session
from bachsurvey.research import machine, plots, records, role
from bachsurvey.research.serializers import ExclusionQuery
from bachsurvey.research.stats import ALL, BACHBOT_2016, CATEGORIES, EXCLUSION_RULES, EXPERIENCES

View = Callable[..., HttpResponse]


def researcher_required(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if role.is_researcher(request.user):
            return view(request, *args, **kwargs)
        if request.user.is_authenticated or session.bound_participant_id(request):
            return render(request, "research/forbidden.html", status=403)
        return redirect_to_login(request.get_full_path())

    return wrapped


def _table(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of experience (all first, as in SPEC §7), columns of category then all."""
    by_key = {(c["experience"], c["category"]): c for c in cells}
    return [
        {"experience": e, "cells": [by_key[e, c] for c in (*CATEGORIES, ALL)]}
        for e in (ALL, *EXPERIENCES)
    ]


def _bachbot_table() -> list[dict[str, Any]]:
    accuracy = BACHBOT_2016["accuracy"]
    return [
        {"experience": e, "cells": [accuracy[e][c] for c in CATEGORIES]}
        for e in BACHBOT_2016["experiences"]
    ]


def _rules(report: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "field": f"exclude_{name}", "description": description, **report[name]}
        for name, description in EXCLUSION_RULES.items()
    ]


@require_safe
@never_cache
@researcher_required
def dashboard(request: HttpRequest) -> HttpResponse:
    query = ExclusionQuery(data=request.GET)
    if not query.is_valid():
        return HttpResponseBadRequest("Exclusion options must be on or off.")
    result, kept = records.summary(query.exclusions())
    context = {
        "overall": result["overall"],
        "result_items": result["items"],
        "model": result["model"],
        "counts": result["n"],
        "position": result["position"],
        "rules": _rules(result["exclusions"]),
        "categories": [*CATEGORIES, ALL],
        "bachbot_categories": CATEGORIES,
        "table": _table(result["cells"]),
        "bachbot": BACHBOT_2016,
        "bachbot_table": _bachbot_table(),
        "plots": plots.dashboard_plots(result, kept),
        "machine": machine.machine_vs_people(result["cells"]),
    }
    return render(request, "research/dashboard.html", context)
