"""The survey's data in the admin, read-only: participants with their assignments, and answers.
Edits would corrupt the data."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from bachsurvey.models import Answer, Assignment, Participant


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ["position", "question", "bach_side"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "age_group", "experience", "consent_version",
                    "guardian_confirmed", "finished_at", "withdrawn_at"]  # fmt: skip
    list_filter = ["age_group", "experience", "study__version", "guardian_confirmed"]
    list_select_related = ["study"]
    exclude = ["withdrawal_code_hash"]
    inlines = [AssignmentInline]

    @admin.display(description="consent version", ordering="study__version")
    def consent_version(self, participant: Participant) -> int | None:
        return participant.study.version if participant.study else None


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "choice", "correct", "response_ms", "created_at"]
    list_filter = ["correct", "assignment__question__category"]
    list_select_related = ["assignment__participant", "assignment__question"]
