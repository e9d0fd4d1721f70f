"""Who takes the quiz and what they answer: participants, their assignments (question, Bach's
side, clip URLs), answers, and the clip bytes the server sent them.

A participant gets five questions (see bachsurvey.quiz.services.draw_questions); each assignment
fixes which side (A or B) holds Bach for that participant, drawn from a cryptographic source, and
at most one answer per assignment is ever stored (a database constraint, not just a check in
Python). The clips are reached only through URLs of the assignment's own
(bachsurvey.quiz.clip_urls), and every byte range the server sends of them is recorded
(ClipDelivery). No IP address or other network data is stored.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bachsurvey.models.content import Question


class AgeGroup(models.TextChoices):
    UNDER_18 = "under-18", _("under 18")
    FROM_18 = "18-25", "18–25"
    FROM_26 = "26-45", "26–45"
    FROM_46 = "46-60", "46–60"
    OVER_60 = "over-60", _("over 60")


# The youngest age in each group: a study's minimum age makes a group minors when its youngest
# is below it (bachsurvey.models.study).
AGE_GROUP_YOUNGEST: dict[str, int] = {
    AgeGroup.UNDER_18: 0,
    AgeGroup.FROM_18: 18,
    AgeGroup.FROM_26: 26,
    AgeGroup.FROM_46: 46,
    AgeGroup.OVER_60: 61,
}


class Experience(models.TextChoices):
    NOVICE = "novice", _("I listen to music but play no instrument")
    INTERMEDIATE = "intermediate", _("I play an instrument but have not studied composition")
    ADVANCED = "advanced", _("I have studied composition formally")
    EXPERT = "expert", _("I teach or research music")


class Side(models.TextChoices):
    A = "A"
    B = "B"


class Participant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    consented_at = models.DateTimeField()
    # Blank only once withdrawn: withdrawing erases the background answers too.
    age_group = models.CharField(max_length=10, choices=AgeGroup.choices, blank=True)
    experience = models.CharField(max_length=12, choices=Experience.choices, blank=True)
    attempt = models.PositiveSmallIntegerField(
        default=1, help_text="1 for this browser's first participant, 2 for its second…"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The version of the study's description this participant agreed to; null for participants
    # who started before the study was described on the site.
    study = models.ForeignKey(
        "bachsurvey.Study",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="participants",
        verbose_name="consent version",
    )
    guardian_confirmed = models.BooleanField(
        default=False, help_text="a minor whose parent or guardian agreed too"
    )
    # A keyed hash of the withdrawal code (bachsurvey.consent.codes), never the code itself;
    # shared by the attempts of one browser played again (one code withdraws them all).
    withdrawal_code_hash = models.CharField(
        max_length=64, db_index=True, null=True, blank=True, editable=False
    )

    def __str__(self) -> str:
        return f"participant {str(self.id)[:8]}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


def new_media_key() -> str:
    """128 random bits, URL-safe: the stem of an assignment's clip URLs
    (bachsurvey.quiz.clip_urls)."""
    return secrets.token_urlsafe(16)


class Assignment(models.Model):
    """Question ``position`` (0–4) of a participant's quiz, with Bach on ``bach_side``.

    ``bach_side`` is drawn for each assignment from a cryptographic source, so that no one can
    predict it from other participants' quizzes. ``media_key`` names this assignment's clips and
    scores in URLs that only its participant's browser can open (bachsurvey.quiz.clip_urls).
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assignments"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="assignments")
    position = models.PositiveSmallIntegerField()
    bach_side = models.CharField(max_length=1, choices=Side.choices)
    media_key = models.CharField(max_length=22, unique=True, default=new_media_key, editable=False)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "question"], name="assignment_question_once"
            ),
            models.UniqueConstraint(
                fields=["participant", "position"], name="assignment_position_once"
            ),
            models.CheckConstraint(condition=Q(position__lte=4), name="assignment_position_0_4"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} #{self.position}: {self.question}"


class Answer(models.Model):
    # One-to-one: a double submission, even a concurrent one, stores exactly one answer.
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="answer")
    choice = models.CharField(max_length=1, choices=Side.choices)
    correct = models.BooleanField()
    response_ms = models.PositiveIntegerField(help_text="from both clips heard to the answer")
    # For the "answered faster than the clips last" exclusion rule; null if the client sent none.
    elapsed_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="from the question shown to the answer"
    )
    plays = models.JSONField(help_text='times each clip was started, e.g. {"A": 1, "B": 2}')
    heard_fully = models.JSONField(help_text='e.g. {"A": true, "B": true}')
    # What the server knows, whatever the browser says: the share of each clip's bytes it had
    # sent this participant before the answer, and the time since the previous answer (or the
    # start of the quiz). Null on answers stored before the server recorded them.
    served = models.JSONField(
        null=True, blank=True, help_text='share of each file sent, e.g. {"A": 1.0, "B": 0.4}'
    )
    server_elapsed_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="from the previous answer (or the start) to this one"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"answer {self.choice} to {self.assignment}"


class ClipDelivery(models.Model):
    """Bytes first_byte..last_byte (inclusive) of one clip of an assignment, sent once."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=1, choices=Side.choices)
    first_byte = models.PositiveIntegerField()
    last_byte = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bytes {self.first_byte}-{self.last_byte} of {self.side} of {self.assignment}"
