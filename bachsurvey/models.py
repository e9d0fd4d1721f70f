"""The listening test's data: chorales, their rendered clips, questions, participants, answers.

A question pairs a real clip with a generated one of the same category and length. A participant
gets five questions (see services.draw_questions); each assignment fixes which side (A or B) holds
Bach for that participant, and at most one answer per assignment is ever stored (a database
constraint, not just a check in Python). No IP address or other network data is stored anywhere.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Category(models.TextChoices):
    """What the model wrote: one voice, two, three (harmonizations), or all four (free)."""

    S = "S", "Soprano re-harmonized"
    A = "A", "Alto re-harmonized"
    T = "T", "Tenor re-harmonized"
    B = "B", "Bass re-harmonized"
    AT = "AT", "Alto and tenor re-harmonized"
    ATB = "ATB", "Alto, tenor and bass re-harmonized"
    SATB = "SATB", "Free composition"


SINGLE_VOICE = (Category.S, Category.A, Category.T, Category.B)


class AgeGroup(models.TextChoices):
    UNDER_18 = "under-18", "under 18"
    FROM_18 = "18-25", "18–25"
    FROM_26 = "26-45", "26–45"
    FROM_46 = "46-60", "46–60"
    OVER_60 = "over-60", "over 60"


class Experience(models.TextChoices):
    NOVICE = "novice", "I listen to music but play no instrument"
    INTERMEDIATE = "intermediate", "I play an instrument but have not studied composition"
    ADVANCED = "advanced", "I have studied composition formally"
    EXPERT = "expert", "I teach or research music"


class Side(models.TextChoices):
    A = "A"
    B = "B"


class Batch(models.Model):
    """A set of chorales made together (a demo fixture, later a generation run).

    Deliberately minimal: the generation issue adds its parameters, status and progress.
    """

    name = models.CharField(max_length=100, unique=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return self.name


class Chorale(models.Model):
    class Kind(models.TextChoices):
        REAL = "real"
        GENERATED = "generated"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    tokens = models.JSONField(help_text="the token stream of composer.encoding")
    frames = models.PositiveIntegerField(help_text="length in sixteenth frames")
    source = models.CharField(
        max_length=40,
        blank=True,
        help_text="real: its corpus id (BWV); harmonization: its source's id",
    )
    # Provenance of a generated chorale; blank / null for real ones.
    checkpoint = models.CharField(max_length=200, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    mask = models.CharField(
        max_length=4, blank=True, help_text="voices the model wrote: S, A, T, B, AT, ATB or SATB"
    )
    note = models.TextField(blank=True)
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="chorales"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="real", mask="") | Q(kind="generated") & ~Q(mask=""),
                name="chorale_mask_iff_generated",
            ),
        ]

    def __str__(self) -> str:
        what = self.source or "free"
        return f"{self.kind} {what} #{self.pk}"


class Clip(models.Model):
    """A rendered excerpt of a chorale: its audio and its engraved score.

    Files carry random names (composer.render.opaque_name) so that nothing in a URL tells the
    real clip from the generated one.
    """

    chorale = models.ForeignKey(Chorale, on_delete=models.PROTECT, related_name="clips")
    frame_start = models.PositiveIntegerField(default=0)
    frame_end = models.PositiveIntegerField()
    audio = models.FileField(upload_to="clips/", max_length=200)
    score = models.FileField(upload_to="scores/", max_length=200, help_text="SVG")
    duration_s = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frame_end__gt=models.F("frame_start")), name="clip_frames_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"clip {self.pk} of {self.chorale}"

    @property
    def frames(self) -> int:
        return self.frame_end - self.frame_start

    @property
    def is_real(self) -> bool:
        return self.chorale.kind == Chorale.Kind.REAL


class Question(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        APPROVED = "approved"
        REJECTED = "rejected"

    # A random id: the API names questions by it, and sequential ids would invite guessing.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    category = models.CharField(max_length=4, choices=Category.choices)
    clip_real = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    clip_generated = models.ForeignKey(Clip, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    live = models.BooleanField(default=False, help_text="only live questions are served")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(live=False) | Q(status="approved"), name="question_live_if_approved"
            ),
            models.CheckConstraint(
                condition=~Q(clip_real=models.F("clip_generated")), name="question_two_clips"
            ),
        ]
        indexes = [models.Index(fields=["live", "category"])]

    def __str__(self) -> str:
        return f"{self.category} question {str(self.id)[:8]}"

    def clip(self, side: str, bach_side: str) -> Clip:
        """The clip shown on ``side`` when Bach is on ``bach_side``."""
        return self.clip_real if side == bach_side else self.clip_generated


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

    def __str__(self) -> str:
        return f"participant {str(self.id)[:8]}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class Assignment(models.Model):
    """Question ``position`` (0–4) of a participant's quiz, with Bach on ``bach_side``."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assignments"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="assignments")
    position = models.PositiveSmallIntegerField()
    bach_side = models.CharField(max_length=1, choices=Side.choices)

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
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"answer {self.choice} to {self.assignment}"
