"""The quiz page, and the clips and scores: participants' own URLs, and the files for staff."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils._os import safe_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from bachsurvey.consent.study import shown_study
from bachsurvey.models import AgeGroup, Category, Experience
from bachsurvey.quiz import clip_files, clip_urls, practice, session, sql

# The experience bands' short names, shown before each band's description (the stored value is
# English and stays so; this is what the participant reads).
EXPERIENCE_NAMES = {
    Experience.NOVICE: _("Novice"),
    Experience.INTERMEDIATE: _("Intermediate"),
    Experience.ADVANCED: _("Advanced"),
    Experience.EXPERT: _("Expert"),
}


@require_safe
def quiz(request: HttpRequest) -> HttpResponse:
    """One page for the whole quiz; the script resumes the session's participant, if any.
    The consent step shows the current study version, which the page sends back with the start."""
    study = shown_study()
    state = {
        "participant": session.bound_participant_id(request),
        "consent_version": study.version,
        "minor_groups": study.minor_groups(),
        "minors": study.minors,
    }
    return render(
        request,
        "quiz.html",
        {
            "state": state,
            "study": study,
            "age_groups": AgeGroup.choices,
            "experiences": [
                (value, EXPERIENCE_NAMES[value], label) for value, label in Experience.choices
            ],
            "categories": {c.value: c.label for c in Category},
            "practice": practice.practice_payload(),
        },
    )


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: the process answers. Touches no database, on purpose: a
    PostgreSQL outage must not take every web process out of the pool (its requests answer 503
    with Retry-After; see db_outage). The load benchmark uses it as its trivial endpoint."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def assignment_media(request: HttpRequest, token: str) -> HttpResponse:
    """A clip's audio or score through its participant's own URL (bachsurvey.quiz.clip_urls).

    404 for anything that is not this browser's participant's own, live URL: a forged token,
    another browser, a withdrawn participant, a score before its answer, an expired URL.
    Every request for audio records the bytes it is answered with. Audio is found in the
    session (no database query on the quiz's most frequent request); scores, and clips of a
    session that does not hold them, in the database.
    """
    grant = clip_urls.read_token(token)
    if grant is None:
        raise Http404("No such clip.")
    known = clip_urls.session_clip(request.session, grant) if grant.kind == "audio" else None
    if known is not None:
        response = clip_files.file_response(request, known.audio, known.size)
        if _sent(request, response):
            still_open = clip_urls.note_sent(known, *response.sent_range)  # type: ignore[attr-defined]
        else:
            still_open = clip_urls.is_open(known)
        if still_open is False:
            raise Http404("No such clip.")
        if still_open:
            return response
    # No shared cache, a score, a session that does not hold the clip, or a cache that failed.
    row = sql.media_row(grant.media_key)
    if (
        row is None
        or str(row.participant_id) != session.bound_participant_id(request)
        or clip_urls.row_expired(row)
        or (grant.kind == "score" and not row.answered)
    ):
        raise Http404("No such clip.")
    if grant.kind == "score":
        return clip_files.file_response(
            request, row.score[grant.side], _size(row.score[grant.side])
        )
    name = row.audio[grant.side]
    response = clip_files.file_response(request, name, row.audio_bytes[grant.side] or _size(name))
    if _sent(request, response):
        first, last = response.sent_range  # type: ignore[attr-defined]
        clip_urls.record_delivery(row.assignment_id, grant.side, first, last)
    return response


def _sent(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether ``response`` sends bytes of the file (a GET answered 200 or 206)."""
    return request.method == "GET" and response.status_code in (200, 206)


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse:
    """MEDIA_ROOT for staff (the admin's review pages), with HTTP Range.

    Participants never come here: their clips have URLs of their own (assignment_media), and a
    stored file name must not open anything for them.
    """
    if not (request.user.is_active and request.user.is_staff):
        raise Http404("No such file.")
    try:
        Path(safe_join(settings.MEDIA_ROOT, path))
    except SuspiciousFileOperation:
        raise Http404("No such file.") from None
    return clip_files.file_response(request, path, _size(path))


def _size(name: str) -> int:
    full = Path(safe_join(settings.MEDIA_ROOT, name))
    if not full.is_file():
        raise Http404("No such file.")
    return full.stat().st_size
