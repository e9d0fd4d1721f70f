"""The study in the admin: one version a row. Only the latest can be edited, and saving an edit
adds the next version (bachsurvey.consent.study.new_version), so that the text each participant
agreed to stays as it was. No version can be deleted while participants point at it (and none
is deleted here at all)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from bachsurvey.consent.study import current_study, new_version
from bachsurvey.models import Study


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "institution", "minimum_age", "minors", "created_at",
                    "participant_count"]  # fmt: skip
    readonly_fields = ["version", "created_at"]
    fields = [
        "version",
        "created_at",
        "title",
        "institution",
        "researchers",
        "contact",
        "ethics_approval",
        "retention",
        "privacy_notice",
        "minimum_age",
        "minors",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Study]:
        return super().get_queryset(request).annotate(participant_total=Count("participants"))

    @admin.display(description="participants", ordering="participant_total")
    def participant_count(self, study: Study) -> int:
        return study.participant_total  # type: ignore[attr-defined]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # type: ignore[no-untyped-def]
        current_study()  # a fresh install's version 1, so that there is something to edit
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # there is always a study: edit the latest version

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Study | None = None) -> bool:
        if obj is not None and obj.version != current_study().version:
            return False  # earlier versions are shown, read-only
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Study, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        if form.has_changed():
            new_version(obj)
            self.message_user(request, f"Participants from now on agree to version {obj.version}.")
