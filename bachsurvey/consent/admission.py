"""Whether the study admits a participant: the study version they read, and its rule for people
under its minimum age (stop them kindly, or admit them with a parent's or guardian's agreement).
bachsurvey.quiz.services asks it when a quiz starts, inside the start's transaction."""

from __future__ import annotations

from django.utils.translation import gettext

from bachsurvey.models import MinorsPolicy, Study
from bachsurvey.quiz.errors import GuardianRequired, StudyChanged, TooYoung


def check_consent(
    study: Study, *, consent_version: int | None, age_group: str, guardian_confirmed: bool
) -> bool:
    """Refuse a start the study does not allow (typed errors); True for a minor whose
    guardian agreed. ``consent_version`` is the version the page showed, when it says."""
    if consent_version is not None and consent_version != study.version:
        raise StudyChanged(
            gettext(
                "The study's description has changed since you opened the page; please reload "
                "the page and read it again."
            )
        )
    if not study.is_minor(age_group):
        return False
    if study.minors == MinorsPolicy.STOP:
        raise TooYoung(
            gettext(
                "Sorry, this study is for people aged %(age)s and over; nothing has been "
                "stored. Thank you for your interest."
            )
            % {"age": study.minimum_age}
        )
    if not guardian_confirmed:
        raise GuardianRequired(
            gettext(
                "For people under %(age)s, a parent or guardian must agree too: please ask "
                "them and tick the box."
            )
            % {"age": study.minimum_age}
        )
    return True
