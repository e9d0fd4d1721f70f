"""The study as participants read it before they agree: who runs it, who approved it, how long
the data are kept, the privacy notice, and who may take part (minimum age, and what happens to
younger people).

Versioned: each row is one version, never changed once participants may have agreed to it. An
edit in the admin saves a new row with the next version number (bachsurvey.consent.study), and
every participant points at the version they agreed to, so a researcher can read what each one
was told. The site always shows the latest version.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from bachsurvey.models.participants import AGE_GROUP_YOUNGEST


class MinorsPolicy(models.TextChoices):
    STOP = "stop", "Stop them kindly; store nothing"
    GUARDIAN = "guardian", "Let them take part when a parent or guardian agrees too"


# The minimum ages the background question can tell apart: where an age group starts.
MINIMUM_AGES = sorted(age for age in AGE_GROUP_YOUNGEST.values() if age > 0)


def validate_minimum_age(value: int) -> None:
    if value not in MINIMUM_AGES:
        # The form asks for an age group, not an age: a minimum inside a group cannot be checked.
        allowed = ", ".join(str(age) for age in MINIMUM_AGES)
        raise ValidationError(
            f"The minimum age must be where an age group starts ({allowed}): participants "
            f"give their age group, not their age."
        )


class Study(models.Model):
    version = models.PositiveIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    title = models.CharField(max_length=200)
    institution = models.CharField(max_length=200, help_text="who runs the study")
    researchers = models.TextField(help_text="names and roles, one a line")
    contact = models.CharField(
        max_length=200, help_text="where participants write with questions, e.g. an e-mail address"
    )
    ethics_approval = models.CharField(
        max_length=200, help_text="the ethics board and its approval reference"
    )
    retention = models.TextField(help_text="how long the answers are kept, and then what")
    privacy_notice = models.TextField(
        help_text="what is stored, why, who sees it, participants' rights"
    )
    minimum_age = models.PositiveSmallIntegerField(
        default=18,
        validators=[validate_minimum_age],
        help_text="younger age groups are minors (18, 26, 46 or 61)",
    )
    minors = models.CharField(
        max_length=10,
        choices=MinorsPolicy.choices,
        default=MinorsPolicy.STOP,
        help_text="what happens when a minor starts the quiz",
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = "study version"

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"

    def is_minor(self, age_group: str) -> bool:
        """Whether ``age_group`` holds anyone under this version's minimum age."""
        return AGE_GROUP_YOUNGEST[age_group] < self.minimum_age

    def minor_groups(self) -> list[str]:
        return [group for group in AGE_GROUP_YOUNGEST if self.is_minor(group)]
