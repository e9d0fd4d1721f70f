"""The admin's pages for generation batches: start one, follow it, stop it, queue it again.

The list shows each batch's state (stale when pending or running without progress for
GENERATION_STALE_SECONDS) and, above it, who works the queues (bachsurvey.generation.workers).
A batch's page carries a progress bar that follows the batch by itself (static
admin-batch/progress.js asks the staff-only ``progress.json`` every two seconds until the batch
ends: an external script, as the site's CSP allows no inline one) and Cancel and Retry buttons,
each asking first on a page of its own.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from bachsurvey.generation import batch_state, jobs, workers
from bachsurvey.models import Batch
from bachsurvey.research import machine

BATCH_PARAMETERS = [
    "mode",
    "voices",
    "count",
    "temperature",
    "seed",
    "checkpoint",
    "method",
    "beam_width",
    "frames",
    "random_key",
]
BATCH_PROGRESS = ["state", "progress_bar", "done", "rejected", "stage", "error", "attempts",
                  "device", "rendered_by"]  # fmt: skip
POLL_MS = 2000


class BatchForm(forms.ModelForm):
    class Meta:
        model = Batch
        fields = BATCH_PARAMETERS
        help_texts = {
            "voices": "harmonize: S, A, T, B, AT or ATB; free: leave blank",
            "checkpoint": "blank: the shipped composer (GENERATION_CHECKPOINT) for free pieces, "
            "the shipped harmonizer (HARMONIZATION_CHECKPOINT) for harmonizations",
        }

    def clean_count(self) -> int:
        count = self.cleaned_data["count"]
        if count < 1:
            raise forms.ValidationError("Ask for at least one piece.")
        return count

    def clean(self) -> dict:
        data = super().clean()
        # Before the model's check constraint sees them: free pieces write all four voices.
        data["voices"] = "SATB" if data.get("mode") == Batch.Mode.FREE else data.get("voices", "")
        data["voices"] = data["voices"].upper()
        return data


# What each button does: the verb, the function, and the past tense for the message.
OPERATIONS = {
    "cancel": ("Cancel", jobs.cancel_batch, "Cancelled"),
    "retry": ("Retry", jobs.retry_batch, "Queued again"),
}


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    form = BatchForm
    list_display = ["name", "state", "progress", "rejected", "short_error", "review", "created_at"]
    list_filter = ["status", "mode"]
    actions = ["retry"]
    change_list_template = "admin/bachsurvey/batch/change_list.html"
    change_form_template = "admin/bachsurvey/batch/change_form.html"

    class Media:
        js = ["admin-batch/progress.js"]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:batch_id>/progress.json", view(self.progress_view),
                 name="bachsurvey_batch_progress"),
            *[
                path(f"<int:batch_id>/{operation}/", view(self.operation_view),
                     {"operation": operation}, name=f"bachsurvey_batch_{operation}")
                for operation in OPERATIONS
            ],
            *super().get_urls(),
        ]  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: Batch | None = None) -> list[str]:
        if obj is None:
            return BATCH_PARAMETERS
        return ["name", *BATCH_PARAMETERS, *BATCH_PROGRESS, "chunks", "started_at",
                "progressed_at", "finished_at", "machine_vs_people"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Batch | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Batch, form: object, change: bool) -> None:
        if change:
            return  # a batch's parameters never change once it exists
        jobs.prepare(obj).save()
        jobs.queue(obj)  # once the admin's transaction commits
        self.message_user(request, f"Queued {obj} on the gpu queue.")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        queues = workers.queue_status()
        return super().changelist_view(request, {**(extra_context or {}), "queues": queues})

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        batch = context.get("original")
        if batch is not None and batch.is_generated:
            context["can_cancel"] = batch.status in Batch.UNFINISHED
            context["can_retry"] = batch.status in jobs.RETRYABLE or batch_state.is_stale(batch)
        return super().render_change_form(request, context, *args, **kwargs)

    def progress_view(self, request: HttpRequest, batch_id: int) -> JsonResponse:
        """Where the batch stands, for its page's progress bar (staff only, never cached:
        admin_view)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(batch_state.progress(get_object_or_404(Batch, pk=batch_id)))

    def operation_view(self, request: HttpRequest, batch_id: int, operation: str) -> HttpResponse:
        """Cancel or retry: GET asks first, POST does it and goes back to the batch's page."""
        batch = get_object_or_404(Batch, pk=batch_id)
        if not self.has_change_permission(request, batch):
            raise PermissionDenied
        verb, apply, done = OPERATIONS[operation]
        back = reverse("admin:bachsurvey_batch_change", args=[batch.pk])
        if request.method == "POST":
            try:
                apply(batch.pk)
            except jobs.BatchError as error:
                self.message_user(request, f"Nothing changed: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{done}: {batch}.")
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{verb} {batch}?",
            "batch": batch,
            "state": batch_state.describe(batch),
            "operation": operation,
            "verb": verb,
            "back": back,
        }
        return TemplateResponse(request, "admin/bachsurvey/batch/confirm.html", context)

    @admin.display(description="status", ordering="status")
    def state(self, batch: Batch) -> str:
        return batch_state.describe(batch)

    @admin.display(description="done")
    def progress(self, batch: Batch) -> str:
        return f"{batch.done} / {batch.count}" if batch.is_generated else "fixture"

    @admin.display(description="progress")
    def progress_bar(self, batch: Batch) -> str:
        url = reverse("admin:bachsurvey_batch_progress", args=[batch.pk])
        ended = "true" if batch.status in batch_state.ENDED else "false"
        return format_html(
            '<progress id="batch-progress" value="{}" max="{}" data-url="{}" data-ended="{}" '
            'data-every="{}">{} / {}</progress> <span id="batch-progress-text">{} / {}</span>',
            batch.done, max(batch.count, 1), url, ended, POLL_MS,
            batch.done, batch.count, batch.done, batch.count,
        )  # fmt: skip

    @admin.display(description="rendered by")
    def rendered_by(self, batch: Batch) -> str:
        """The workers that stored the last fan-out's pieces (once it finished), and how many."""
        workers = batch.fanout.get("workers") or {}
        return ", ".join(f"{name}: {pieces}" for name, pieces in workers.items()) or "—"

    @admin.display(description="error")
    def short_error(self, batch: Batch) -> str:
        return batch.error[:120]

    @admin.display(description="machine vs people")
    def machine_vs_people(self, batch: Batch) -> str:
        figures = machine_vs_people(batch)
        if figures is None:
            return "—"
        return render_to_string(
            "admin/bachsurvey/batch/machine_vs_people.html", {"figures": figures}
        )

    @admin.display(description="questions")
    def review(self, batch: Batch) -> str:
        url = reverse("admin:bachsurvey_question_changelist")
        return format_html('<a href="{}?batch={}">review</a>', url, batch.pk)

    @admin.action(description="Retry (failed, cancelled or stale batches)")
    def retry(self, request: HttpRequest, queryset: QuerySet[Batch]) -> None:
        for batch in queryset:
            try:
                jobs.retry_batch(batch.pk)
            except jobs.BatchError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                self.message_user(request, f"Queued {batch} again.")


def machine_vs_people(batch: Batch | None) -> dict | None:
    """The machine judge on a generation batch's pairs (Batch.judge, stored when it was done)
    beside the listeners on its questions; None for no batch or a fixture batch."""
    if batch is None or not batch.is_generated:
        return None
    return {"batch": batch, "judge": batch.judge, "listeners": machine.batch_listeners(batch)}
