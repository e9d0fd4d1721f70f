"""The About page (the study, current version) and the /withdraw/ page (a code, any device)."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from bachsurvey.consent import codes
from bachsurvey.consent.forms import WithdrawalForm
from bachsurvey.consent.study import shown_study
from bachsurvey.consent.withdrawal import UnknownCode, withdraw_by_code
from bachsurvey.quiz.throttles import WithdrawalCodeThrottle, in_words


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "consent/about.html",
        {"study": shown_study(), "code_example": codes.display("ABCD2345")},
    )


@csrf_protect  # the middleware does too; said here so that no settings change can drop it
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "consent/withdraw.html", {"form": WithdrawalForm()})
    throttle = WithdrawalCodeThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        wait = throttle.wait()
        seconds = None if wait is None else max(1, math.ceil(wait))
        response = render(
            request,
            "consent/withdraw.html",
            {"form": WithdrawalForm(), "limited": in_words(seconds)},
            status=429,
        )
        if seconds is not None:
            response["Retry-After"] = str(seconds)
        return response
    form = WithdrawalForm(request.POST)
    if not form.is_valid():
        return render(request, "consent/withdraw.html", {"form": form}, status=400)
    try:
        withdraw_by_code(form.cleaned_data["code"])
    except UnknownCode:
        form.add_error("code", _("This code is not right. Please check it and try again."))
        return render(request, "consent/withdraw.html", {"form": form}, status=400)
    return render(request, "consent/withdrawn.html")
