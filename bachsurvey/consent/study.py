"""The current study, and new versions of it.

A fresh install has no study row: the first request that needs one creates version 1 from
DEFAULT_STUDY, so the site works at once, and the admin shows it to be filled in. Editing
never changes a row participants may have agreed to; it adds the next version (new_version).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import IntegrityError, transaction

from bachsurvey.models import MinorsPolicy, Study

# What a fresh install tells participants until the researchers fill in the study in the admin.
# True of the software as it stands; the placeholders say plainly what is still missing.
DEFAULT_STUDY: dict[str, object] = {
    "title": "Bach or Bot: can listeners tell Bach's chorales from a neural network's?",
    "institution": "Not named yet: the researchers set it in the site's admin.",
    "researchers": "Not named yet.",
    "contact": "Not set yet.",
    "ethics_approval": "None recorded yet.",
    "retention": (
        "Your answers are kept for the study's analysis until the researchers set a retention "
        "period here. You can withdraw at any time with your withdrawal code."
    ),
    "privacy_notice": (
        "We store your age group, your musical experience, your answers, how often you played "
        "each clip, how much of each clip was sent to you and how long you took. We store no "
        "name, no e-mail address and no IP address. A cookie keeps your place if you reload.\n\n"
        "Your answers are used for research on music generation and may be published in "
        "anonymous, aggregate form and as anonymous answer tables. Withdrawing deletes your "
        "answers and background answers; only the dates remain, so that your browser can be told."
    ),
    "minimum_age": 18,
    "minors": MinorsPolicy.STOP,
}


def current_study() -> Study:
    """The latest version, creating version 1 on a fresh install."""
    study = Study.objects.order_by("-version").first()
    if study is not None:
        return study
    try:
        with transaction.atomic():  # a savepoint: two first requests at once make one row
            return Study.objects.create(version=1, **DEFAULT_STUDY)
    except IntegrityError:
        return Study.objects.get(version=1)


# Pages that only show the study (the landing page, About) read it from the cache: a newcomer
# still gets the landing page while PostgreSQL is away, as before pages showed the study. A
# new version clears it at once where the cache is shared (Redis); a process with a cache of
# its own shows the old one for at most this long, and a start under it then gets
# study_changed (the start itself always reads the database).
SHOWN_CACHE_KEY = "bachsurvey:study:shown"
SHOWN_CACHE_SECONDS = 60


def shown_study() -> Study:
    """The current study for display, from the cache when it is there."""
    study = cache.get(SHOWN_CACHE_KEY)
    if study is None:
        study = current_study()
        cache.set(SHOWN_CACHE_KEY, study, SHOWN_CACHE_SECONDS)
    return study


def new_version(edited: Study) -> Study:
    """Save ``edited`` (an edit of any version, not yet saved) as the next version."""
    with transaction.atomic():
        latest = Study.objects.select_for_update().order_by("-version").first()
        edited.pk = None
        edited._state.adding = True
        edited.version = (latest.version if latest else 0) + 1
        edited.save()
        # Now (this request's own pages) and once committed (a page read meanwhile cached the
        # version before).
        cache.delete(SHOWN_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(SHOWN_CACHE_KEY))
    return edited
