"""The Django admin for the survey data: enough to look around and to put questions live.

Reviewing generated batches (listening side by side, approving, rejecting) comes with the
generation issue; answers and participants are read-only here, as edits would corrupt the data.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from bachsurvey.models import Answer, Assignment, Batch, Chorale, Clip, Participant, Question


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]


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


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["id", "category", "status", "live", "created_at"]
    list_filter = ["category", "status", "live"]
    raw_id_fields = ["clip_real", "clip_generated"]
    actions = ["approve_and_go_live", "take_off_quiz"]

    @admin.action(description="Approve and put live")
    def approve_and_go_live(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        queryset.update(status=Question.Status.APPROVED, live=True)

    @admin.action(description="Take off the quiz (keeps answers)")
    def take_off_quiz(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        queryset.update(live=False)


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
    list_display = ["id", "created_at", "age_group", "experience", "finished_at", "withdrawn_at"]
    list_filter = ["age_group", "experience"]
    inlines = [AssignmentInline]


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ["id", "assignment", "choice", "correct", "response_ms", "created_at"]
    list_filter = ["correct", "assignment__question__category"]
    list_select_related = ["assignment__participant", "assignment__question"]
