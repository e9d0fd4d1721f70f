"""The harmonizer's JSON API: POST a melody, 202 with where to ask; GET its state until done.

Anyone may use it, with no session and no CSRF token (nothing is bound to a browser; a script is
as welcome as the page); the rate limit per address keeps it from being flooded. A body may be
larger than the site's 64 kB (a 1 MB melody file, base64-encoded), up to MAX_BODY_BYTES, checked
from the declared length before a byte is read.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, NoReturn

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bachsurvey.client import client_address
from bachsurvey.harmonize import requests
from bachsurvey.harmonize.serializers import (
    HarmonizationCreatedOutput,
    HarmonizationInput,
    HarmonizationOutput,
    payload,
    status_url,
)
from bachsurvey.models import Harmonization
from bachsurvey.quiz.api import participant_exception_handler
from bachsurvey.quiz.parsers import BodyTooLarge, SafeJSONParser
from bachsurvey.quiz.serializers import ErrorOutput
from bachsurvey.quiz.throttles import RateLimit, RateLimited

MAX_BODY_BYTES = 2_000_000


def too_large() -> BodyTooLarge:
    return BodyTooLarge(
        {
            "detail": gettext("Request body over %(limit)s bytes.") % {"limit": MAX_BODY_BYTES},
            "code": "too_large",
        }
    )


class MelodyJSONParser(BaseParser):
    """SafeJSONParser's checks on a body of up to MAX_BODY_BYTES. DRF hands a JSONParser
    request.body, which stops at the site's DATA_UPLOAD_MAX_MEMORY_SIZE (64 kB); any other
    parser gets the stream, read here no further than the limit."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_BODY_BYTES:
            raise too_large()
        return SafeJSONParser().parse(io.BytesIO(data), media_type, parser_context)


class HarmonizationThrottle(RateLimit):
    scope = "harmonizations"
    setting = "RATE_LIMIT_HARMONIZATIONS"
    period = "hour"
    message = _("Too many melodies from your network in the last hour; please try again {wait}.")

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class HarmonizerApi(APIView):
    authentication_classes: list = []  # no session, so no CSRF check: nothing is the browser's
    permission_classes = [AllowAny]
    parser_classes = [MelodyJSONParser]

    def get_exception_handler(self) -> Callable:
        return participant_exception_handler  # {"detail", "code"} as the rest of the API


class HarmonizationCreateApi(HarmonizerApi):
    throttle_classes = [HarmonizationThrottle]

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise RateLimited(wait, HarmonizationThrottle.message)

    @extend_schema(
        request=HarmonizationInput,
        responses={
            202: HarmonizationCreatedOutput,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="a melody that cannot be harmonized (code bad_melody, the detail "
                "naming the note or bar), one the listening test plays (quiz_melody): "
                "{detail, code}; or a malformed body: messages by field",
            ),
            413: ErrorOutput,
            429: ErrorOutput,
        },
        summary="Harmonize a melody: queued at once, poll its status_url",
    )
    def post(self, request: Request) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            raise too_large()  # refused before a byte is read
        data = HarmonizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            row = requests.create(
                melody=values["melody"],
                fmt=values["format"],
                voices=values["voices"],
                melody_voice=values.get("melody_voice"),
                method=values["method"],
                beam_width=values["beam_width"],
                address=client_address(request) or "",
            )
        except requests.Refused as error:
            body = {"detail": str(error), "code": error.code}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        body = {"id": row.pk, "status_url": status_url(row)}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class HarmonizationDetailApi(HarmonizerApi):
    @extend_schema(
        responses={200: HarmonizationOutput, 404: ErrorOutput},
        summary="A harmonization's state, and its files once done (404 once expired)",
    )
    def get(self, request: Request, harmonization_id: str) -> Response:
        row = Harmonization.objects.filter(
            pk=harmonization_id, expires_at__gt=timezone.now()
        ).first()
        if row is None:
            raise Http404(gettext("No such harmonization (it may have expired)."))
        return Response(payload(row))
