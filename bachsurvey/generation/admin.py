"""The admin's side of generation: chorales and clips, review of generated questions (with the
validity audit), and the grid search's results; batches have their own module (batch_admin).

Only approved questions go live, and a question of a batch that is not done cannot be approved
(bachsurvey.generation.review).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from bachsurvey.generation import audit, review
from bachsurvey.generation.batch_admin import machine_vs_people
from bachsurvey.models import Batch, Chorale, Clip, GridRun, Question
from bachsurvey.quiz import health


@admin.register(Chorale)
class ChoraleAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "source", "mask", "frames", "checkpoint", "batch"]
    list_filter = ["kind", "mask", "batch"]
    search_fields = ["source", "checkpoint"]
    exclude = ["tokens"]  # thousands of tokens make the form unusable
    readonly_fields = ["created_at"]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["id", "chorale", "frame_start", "frame_end", "duration_s", "player"]
    list_select_related = ["chorale"]

    @admin.display(description="audio")
    def player(self, clip: Clip) -> str:
        return format_html('<audio controls preload="none" src="{}"></audio>', clip.audio.url)


class BatchFilter(admin.SimpleListFilter):
    title = "batch"
    parameter_name = "batch"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[int, str]]:
        return [(b.pk, b.name) for b in Batch.objects.order_by("-created_at")[:50]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(clip_generated__chorale__batch=value) if value else queryset


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["id", "category", "status", "live", "review", "created_at"]
    list_filter = ["category", "status", "live", BatchFilter]
    raw_id_fields = ["clip_real", "clip_generated"]
    actions = ["approve_and_go_live", "reject", "take_off_quiz"]

    change_list_template = "admin/bachsurvey/question/change_list.html"

    def get_urls(self) -> list:
        review = self.admin_site.admin_view(self.review_view)
        audit_page = self.admin_site.admin_view(self.audit_view)
        return [
            path("<uuid:question_id>/review/", review, name="bachsurvey_question_review"),
            path("audit/", audit_page, name="bachsurvey_question_audit"),
            *super().get_urls(),
        ]

    def audit_view(self, request: HttpRequest) -> HttpResponse:
        """The validity audit of the live pool (manage.py audit_validity), as a page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            report = audit.audit()
            lines = audit.describe(report)
        except audit.AudioMissing as missing:
            report, lines = None, [f"BROKEN: cannot audit the live pool: {missing}"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Validity audit of the live questions",
            "lines": lines,
            "report": report,
        }
        return TemplateResponse(request, "admin/bachsurvey/question/audit.html", context)

    @admin.display(description="review")
    def review(self, question: Question) -> str:
        url = reverse("admin:bachsurvey_question_review", args=[question.pk])
        return format_html('<a href="{}">listen</a>', url)

    @admin.action(description="Approve and put live")
    def approve_and_go_live(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        approval = review.approve(queryset)
        self.message_user(request, f"{approval.approved} approved and live.")
        for line in approval.messages():
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: QuerySet[Question]) -> HttpResponse | None:
        return self._off_quiz(request, queryset, "rejected", review.reject)

    @admin.action(description="Take off the quiz (keeps answers)")
    def take_off_quiz(
        self, request: HttpRequest, queryset: QuerySet[Question]
    ) -> HttpResponse | None:
        return self._off_quiz(
            request, queryset, "taken off the quiz", lambda chosen: chosen.update(live=False)
        )

    def _off_quiz(
        self,
        request: HttpRequest,
        queryset: QuerySet[Question],
        what: str,
        apply: Callable[[QuerySet[Question]], int],
    ) -> HttpResponse | None:
        """Ask first, showing what stays live per category; refuse to leave a pool that cannot
        build a quiz unless the override is ticked."""
        after = health.health(without=queryset.filter(live=True).values_list("pk", flat=True))
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"{queryset.count()} questions to be {what}",
                "questions": queryset,
                "what": what,
                "action": request.POST.get("action", ""),
                "before": health.health(),
                "after": after,
            }
            return TemplateResponse(request, "admin/bachsurvey/question/off_quiz.html", context)
        if not after.can_build_quiz and request.POST.get("override") != "yes":
            self.message_user(
                request,
                f"Nothing changed: without them the pool would be {after.describe()}, and every "
                "new participant would be told to come back later. Tick the override to do it.",
                messages.ERROR,
            )
            return None
        count = apply(queryset)
        self.message_user(request, f"{count} {what}. Live now: {health.health().describe()}.")
        return None

    def review_view(self, request: HttpRequest, question_id: str) -> HttpResponse:
        """Both clips side by side, their scores, the style report; approve or reject."""
        question = get_object_or_404(
            Question.objects.select_related("clip_real__chorale", "clip_generated__chorale__batch"),
            pk=question_id,
        )
        if not self.has_change_permission(request, question):
            raise PermissionDenied
        if request.method == "POST":
            return self.decide(request, question, request.POST.get("decision", ""))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review: {question}",
            "question": question,
            "style": style_rows(question.clip_generated.chorale.style or {}),
            "reviewable": Question.objects.filter(review.reviewable(), pk=question.pk).exists(),
            "machine_vs_people": machine_vs_people(question.clip_generated.chorale.batch),
        }
        return TemplateResponse(request, "admin/bachsurvey/question/review.html", context)

    def decide(self, request: HttpRequest, question: Question, decision: str) -> HttpResponse:
        one = Question.objects.filter(pk=question.pk)
        approval = review.approve(one) if decision == "approve" else None
        if approval is not None and approval.approved:
            self.message_user(request, f"Approved: {question} is live.")
        elif decision == "reject":
            review.reject(one)
            self.message_user(request, f"Rejected: {question} will not be served.")
        else:
            why = approval.messages() if approval else ["no decision"]
            self.message_user(request, "Nothing changed: " + "; ".join(why), messages.WARNING)
            return HttpResponseRedirect(request.path)
        following = review.next_draft(question)
        target = following.pk if following is not None else question.pk
        return HttpResponseRedirect(reverse("admin:bachsurvey_question_review", args=[target]))


def style_rows(report: dict) -> list[dict]:
    """composer.style's report as table rows, in its own order."""
    return [{"measure": name.replace("_", " "), **values} for name, values in report.items()]


@admin.register(GridRun)
class GridRunAdmin(admin.ModelAdmin):
    """The grid search's results table: one row per configuration, best first."""

    list_display = ["grid", "index", "configuration", "status", "best_validation_loss",
                    "best_epoch", "epochs_run", "seconds", "short_error"]  # fmt: skip
    list_filter = ["grid", "status"]
    ordering = ["grid", "best_validation_loss", "index"]
    readonly_fields = [f.name for f in GridRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # searches start from `manage.py grid_search CONFIG`

    @admin.display(description="settings")
    def configuration(self, row: GridRun) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(row.settings.items()))

    @admin.display(description="error")
    def short_error(self, row: GridRun) -> str:
        return row.error[:120]
