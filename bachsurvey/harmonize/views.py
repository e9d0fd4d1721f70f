"""The harmonizer's page, and its results' files by URLs of their own (the request's random id).

Results are not quiz clips: anyone with the id may fetch them until they expire, and nothing is
recorded. They never change, so browsers may keep them (privately: the id is the only key).
Audio is answered with HTTP Range (Safari needs it), as the quiz's clips are.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from bachsurvey.harmonize.work import FILES
from bachsurvey.models import Harmonization
from bachsurvey.quiz import clip_files

# Downloads carry a name; the score and the audio open in the page.
DOWNLOADS = {"midi", "musicxml"}


@require_safe
def page(request: HttpRequest) -> HttpResponse:
    from bachsurvey.harmonize.serializers import MAX_BEAM_WIDTH

    return render(request, "harmonize.html", {"max_beam_width": MAX_BEAM_WIDTH})


@require_safe
def result_file(request: HttpRequest, harmonization_id: str, kind: str) -> HttpResponse:
    """One of a done request's files, until it expires; 404 for anything else."""
    row = Harmonization.objects.filter(
        pk=harmonization_id, status=Harmonization.Status.DONE, expires_at__gt=timezone.now()
    ).first()
    if row is None or kind not in FILES or not row.folder:
        raise Http404("No such file (it may have expired).")
    name = f"{row.folder}/{FILES[kind]}"
    path = Path(safe_join(settings.MEDIA_ROOT, name))
    if not path.is_file():
        raise Http404("No such file.")
    response = clip_files.file_response(request, name, path.stat().st_size)
    if kind in DOWNLOADS:
        response["Content-Disposition"] = f'attachment; filename="{FILES[kind]}"'
    return response
