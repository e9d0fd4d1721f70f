"""The two login pages' forms under the lockout, and their views' 429 when they refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse

from bachsurvey.logins import lockout

LOCKED_OUT = "locked_out"


class LockoutMixin:
    """For an AuthenticationForm: refuse a locked-out user name at this address; Django's
    authenticate() then checks the password and axes counts a failure (its signal handler)."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]
    locked_out_for: int | None = None  # seconds, set when this form refused a locked-out login

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if self.request is None or username is None or not self.cleaned_data.get("password"):
            return super().clean()  # type: ignore[misc]  # a field is missing: nothing checked
        with lockout.one_at_a_time(self.request, username):
            self.locked_out_for = lockout.locked_for(self.request, username)
            if self.locked_out_for is not None:
                raise forms.ValidationError(lockout.refusal(self.locked_out_for), code=LOCKED_OUT)
            return super().clean()  # type: ignore[misc]


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    """The researchers' login page."""


class LockoutAdminAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's login page (admin.site.login_form)."""


def refuse_locked_out(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A login view whose page, when it refused a locked-out login, answers 429 with
    Retry-After (the page and its message are unchanged), so scripts see the refusal too."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        seconds = getattr(form, "locked_out_for", None)
        if seconds is not None:
            response.status_code = 429
            response["Retry-After"] = str(seconds)
        return response

    return wrapped
