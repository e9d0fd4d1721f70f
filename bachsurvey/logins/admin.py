"""Current lockouts in the admin, and their reset: axes' AccessAttempt rows that still count.

One row per user name, address and browser (axes' key); the failures shown are the pair's, all
browsers together, as the lockout counts them. Refused logins are not counted, so a locked-out
pair's last failure is when its lockout began, and it ends a cool-off later (handler.py).
Resetting deletes the rows: the pair (or the user name, from every address) may log in at once.
Staff need axes' view and delete permissions on access attempts; superusers have them.
"""

from __future__ import annotations

from datetime import datetime

from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import F, Max, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.utils import timezone

from bachsurvey.logins import handler, lockout


def _total(since: datetime, *fields: str, of: str, aggregate: type) -> Subquery:
    """``aggregate`` of ``of`` over the current attempts that share ``fields`` with the row."""
    rows = AccessAttempt.objects.filter(
        attempt_time__gte=since, **{field: OuterRef(field) for field in fields}
    )
    return Subquery(rows.order_by().values(*fields).annotate(total=aggregate(of)).values("total"))


@admin.register(AccessAttempt)
class LockoutAdmin(admin.ModelAdmin):
    list_display = ["username", "ip_address", "pair_failures", "last_failure", "locked_until"]
    list_display_links = None  # the row holds all there is; axes' form data stays out of view
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["reset_pairs", "reset_user_names"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        since = timezone.now() - lockout.cool_off(request)
        return (
            super()
            .get_queryset(request)
            .filter(attempt_time__gte=since)  # older failures no longer count
            .annotate(
                pair_total=_total(
                    since, "username", "ip_address", of="failures_since_start", aggregate=Sum
                ),
                pair_last=_total(since, "username", "ip_address", of="attempt_time", aggregate=Max),
                user_total=_total(since, "username", of="failures_since_start", aggregate=Sum),
                user_last=_total(since, "username", of="attempt_time", aggregate=Max),
            )
        )

    @admin.display(description="failures", ordering=F("pair_total"))
    def pair_failures(self, attempt: AccessAttempt) -> int:
        return attempt.pair_total or attempt.failures_since_start  # type: ignore[attr-defined]

    @admin.display(description="last failure (when a lockout began)", ordering="attempt_time")
    def last_failure(self, attempt: AccessAttempt) -> datetime:
        return attempt.attempt_time

    @admin.display(description="locked out until")
    def locked_until(self, attempt: AccessAttempt) -> str:
        (_, pair_limit), (_, user_limit) = handler.limits(attempt.username, attempt.ip_address)
        ends = []
        if 0 < pair_limit <= self.pair_failures(attempt):
            ends.append((attempt.pair_last, "this address"))  # type: ignore[attr-defined]
        if 0 < user_limit <= (attempt.user_total or 0):  # type: ignore[attr-defined]
            ends.append((attempt.user_last, "every address"))  # type: ignore[attr-defined]
        if not ends:
            return "not locked out"
        last, where = max(ends)
        until = timezone.localtime(last + lockout.cool_off(None))
        return f"{until:%Y-%m-%d %H:%M:%S} ({where})"

    @admin.action(
        description="Reset the selected lockouts (the user name at that address)",
        permissions=["delete"],
    )
    def reset_pairs(self, request: HttpRequest, queryset: QuerySet) -> None:
        pairs = set(queryset.values_list("username", "ip_address"))
        deleted = sum(
            AccessAttempt.objects.filter(username=username, ip_address=address).delete()[0]
            for username, address in pairs
        )
        self.message_user(request, f"Reset {len(pairs)} lockout(s) ({deleted} row(s) deleted).")

    @admin.action(
        description="Reset the selected user names at every address", permissions=["delete"]
    )
    def reset_user_names(self, request: HttpRequest, queryset: QuerySet) -> None:
        names = set(queryset.values_list("username", flat=True))
        deleted, _ = AccessAttempt.objects.filter(username__in=names).delete()
        self.message_user(request, f"Reset {len(names)} user name(s) ({deleted} row(s) deleted).")

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one browser's row alone would reset half a pair
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
