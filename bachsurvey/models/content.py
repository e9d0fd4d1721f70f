"""What the quiz is made of, and how it is made: batches of generated chorales, chorales, their
rendered clips, questions (a real clip against a generated one), and grid-search runs.

A question pairs a real clip with a generated one of the same category and length. Clip files
carry random names, and the clips are reached only through URLs of an assignment's own
(bachsurvey.quiz.clip_urls).
"""

from __future__ import annotations

import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from composer.voices import CATEGORIES, MASKS

# Participants read these (the quiz's results, /results/): translated where shown.
CATEGORY_LABELS = {
    "S": _("Soprano re-harmonized"),
    "A": _("Alto re-harmonized"),
    "T": _("Tenor re-harmonized"),
    "B": _("Bass re-harmonized"),
    "AT": _("Alto and tenor re-harmonized"),
    "ATB": _("Alto, tenor and bass re-harmonized"),
    "SATB": _("Free composition"),
}
# What the model wrote: one voice, two, three (harmonizations), or all four (free); the names
# come from the composer (composer.voices: names only, no music21 or torch).
Category = models.TextChoices(
    "Category", [(name, (name, CATEGORY_LABELS[name])) for name in CATEGORIES]
)


SINGLE_VOICE = (Category.S, Category.A, Category.T, Category.B)
MAX_BATCH_COUNT = 10_000
MAX_SEED = 2**31 - 1


def new_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


class Batch(models.Model):
    """A set of chorales made together: a generation run (Celery task), or a demo fixture.

    A generation batch is a status row in the manner of Saleor's export files: the task moves it
    from pending to running to done or failed, counts progress, and keeps the error. Its pieces
    are numbered 0..count-1 and each number is stored at most once (a constraint on Chorale),
    so a retried or redelivered task fills in what is missing and never duplicates.
    """

    class Mode(models.TextChoices):
        FREE = "free", "free composition"
        HARMONIZE = "harmonize", "harmonization of held-out chorales"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    NOT_SERVED = (Status.PENDING, Status.RUNNING, Status.FAILED, Status.CANCELLED)
    # A task may still be working on these (or is about to); the others have ended.
    UNFINISHED = (Status.PENDING, Status.RUNNING)

    class Method(models.TextChoices):
        GREEDY = "greedy"
        BEAM = "beam"

    name = models.CharField(max_length=100, unique=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What to generate; blank mode: a fixture batch (the demo), loaded rather than generated.
    mode = models.CharField(max_length=10, choices=Mode.choices, blank=True)
    voices = models.CharField(
        max_length=4, blank=True, help_text="voices the model writes: SATB (free) or S … ATB"
    )
    checkpoint = models.CharField(max_length=300, blank=True)
    count = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_BATCH_COUNT)], help_text="pieces wanted"
    )
    temperature = models.FloatField(default=0.8)
    # Drawn for each new batch unless given: batches on one fixed seed would pick the same
    # chorales in the same order.
    seed = models.PositiveBigIntegerField(
        default=new_seed, validators=[MaxValueValidator(MAX_SEED)]
    )
    method = models.CharField(max_length=6, choices=Method.choices, default=Method.BEAM)
    beam_width = models.PositiveSmallIntegerField(default=5)
    frames = models.PositiveIntegerField(
        default=64, validators=[MinValueValidator(4)], help_text="longest clip, in sixteenths"
    )
    random_key = models.BooleanField(
        default=True,
        help_text="move both clips of each pair together to one key drawn at random",
    )
    # Progress, written by the task.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0, help_text="pieces stored")
    rejected = models.PositiveIntegerField(default=0, help_text="invalid samples drawn")
    stage = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="times a task started it since it was last queued"
    )
    device = models.CharField(max_length=40, blank=True)
    device_batch = models.PositiveIntegerField(
        null=True, blank=True, help_text="pieces sampled per pass, fixed at the first run"
    )
    chunks = models.JSONField(default=dict, blank=True, help_text="per pass: drawn, rejected")
    # The pieces handed to render tasks by the current attempt (bachsurvey.generation.fanout):
    # {"id", "pieces", "sent", "starts": {index: times its task started},
    # "workers": {name: pieces}}.
    # Only tasks that carry its id may store a piece or finish the batch.
    fanout = models.JSONField(
        default=dict, blank=True, help_text="the render tasks of the current attempt"
    )
    # The machine judge on the batch's own pairs (bachsurvey.generation.batch_judge), stored when
    # the batch is done: accuracy, interval, n, right, tells; or accuracy null and a reason.
    judge = models.JSONField(
        null=True, blank=True, help_text="the machine judge's verdict on this batch's pairs"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    # The last sign of life: queued, a task started, a piece stored. A pending or running batch
    # quiet for GENERATION_STALE_SECONDS is stale (bachsurvey.generation.batch_state).
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(mode="", voices="")
                | Q(mode="free", voices="SATB")
                | Q(mode="harmonize") & Q(voices__in=list(MASKS)),
                name="batch_voices_fit_mode",
                violation_error_message=(
                    "Voices: leave blank for free composition; "
                    "S, A, T, B, AT or ATB for a harmonization."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_generated(self) -> bool:
        return bool(self.mode)


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
    # Named in the reveal after an answer, never before (composer.titles: music21's lists).
    title = models.CharField(
        max_length=200, blank=True, help_text="the source chorale's title, when music21 lists it"
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
    index = models.PositiveIntegerField(
        null=True, blank=True, help_text="its number in a generation batch"
    )
    style = models.JSONField(
        null=True, blank=True, help_text="composer.style report, with Bach's own rates"
    )
    decoding = models.JSONField(
        null=True,
        blank=True,
        help_text="how it was decoded: sampling settings or search, and the voice-leading rules",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="real", mask="") | Q(kind="generated") & ~Q(mask=""),
                name="chorale_mask_iff_generated",
            ),
            # A retried or redelivered batch task can never store piece N twice.
            models.UniqueConstraint(
                fields=["batch", "index"],
                condition=Q(index__isnull=False),
                name="chorale_batch_index_once",
            ),
            # The real side: one shared row per corpus chorale (import_chorales, batches).
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(kind="real", batch__isnull=True),
                name="chorale_real_source_once",
            ),
        ]

    def __str__(self) -> str:
        what = self.source or "free"
        return f"{self.kind} {what} #{self.pk}"


class Clip(models.Model):
    """A rendered excerpt of a chorale: its audio and its engraved score.

    Files carry random names (composer.paths.opaque_name) so that nothing in a URL tells the
    real clip from the generated one.
    """

    chorale = models.ForeignKey(Chorale, on_delete=models.PROTECT, related_name="clips")
    frame_start = models.PositiveIntegerField(default=0)
    frame_end = models.PositiveIntegerField()
    audio = models.FileField(upload_to="clips/", max_length=200)
    score = models.FileField(upload_to="scores/", max_length=200, help_text="SVG")
    duration_s = models.FloatField()
    # Both clips of a pair are moved together to one key (pairing.common_shift); the chorale's
    # tokens stay as they are, so the clip is frames frame_start..frame_end moved by this much.
    transpose = models.SmallIntegerField(default=0, help_text="semitones, the same for both sides")
    # What the file is, measured when it is stored: the ranges the server sends are counted
    # against its size, and identical audio behind two questions is found by its hash.
    audio_bytes = models.PositiveIntegerField(default=0)
    audio_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
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


class GridRun(models.Model):
    """One configuration of a hyperparameter grid search, trained by a task on the gpu queue."""

    grid = models.CharField(max_length=100, help_text="the search it belongs to")
    index = models.PositiveIntegerField()
    settings = models.JSONField(help_text="composer.train.TrainConfig fields")
    status = models.CharField(
        max_length=10, choices=Batch.Status.choices, default=Batch.Status.PENDING
    )
    best_validation_loss = models.FloatField(null=True, blank=True, help_text="nats per token")
    best_epoch = models.PositiveIntegerField(null=True, blank=True)
    epochs_run = models.PositiveIntegerField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    run_dir = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["grid", "index"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "index"], name="gridrun_index_once"),
        ]

    def __str__(self) -> str:
        return f"{self.grid} #{self.index}"
