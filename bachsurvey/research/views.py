"""The researchers' dashboard page, and who may see it.

Anonymous visitors are sent to the login page (Django's own, at /accounts/login/); a logged-in
user outside the "researcher" group, or a quiz participant's browser, gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from bachsurvey.quiz import session
from bachsurvey.research import funnel, machine, plots, report, role
from bachsurvey.research.serializers import ResultsQuery, query_errors
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


def _query(request: HttpRequest) -> ResultsQuery | HttpResponse:
    """The dashboard's GET parameters, validated; a 400 naming each bad one otherwise."""
    query = ResultsQuery(data=request.GET)
    if not query.is_valid():
        message = "Bad query: " + query_errors(query.errors)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    return query


@require_safe
@never_cache
@researcher_required
def dashboard(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    if isinstance(query, HttpResponse):
        return query
    params = query.params()
    dates = query.dates()
    cached = report.dashboard(query.exclusions(), dates, params)
    result = cached["result"]
    suffix = f"?{urlencode(params)}" if params else ""
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
        "plots": cached["plots"],
        "plot_formats": list(plots.FORMATS),
        "breakdowns": cached["breakdowns"],
        "funnel": funnel.funnel(dates, counts=cached["funnel"]),
        "machine": machine.machine_vs_people(result["cells"]),
        "dates": {"from": params.get("date_from", ""), "to": params.get("date_to", "")},
        "query_suffix": suffix,
    }
    return render(request, "research/dashboard.html", context)


@require_safe
@never_cache
@researcher_required
def plot_file(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """One plot as an SVG or PNG file, of the answers the same query selects on the dashboard."""
    if name not in plots.PLOTS or fmt not in plots.FORMATS:
        return HttpResponseBadRequest(
            f"Unknown plot {name}.{fmt}: plots are {', '.join(plots.PLOTS)}; "
            f"formats {', '.join(plots.FORMATS)}.",
            content_type="text/plain; charset=utf-8",
        )
    query = _query(request)
    if isinstance(query, HttpResponse):
        return query
    params = query.params()
    body = report.plot_file(name, fmt, query.exclusions(), query.dates(), params)
    response = HttpResponse(body, content_type=plots.FORMATS[fmt])
    tail = "".join(f"-{value}" for key, value in params.items() if key.startswith("date_"))
    filename = f"bach-or-bot-{name}{tail}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if fmt == "svg":  # opened on its own, an SVG is a document: it may style itself, no more
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
