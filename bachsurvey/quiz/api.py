"""The JSON API the quiz page uses. Short views: check the session, call a service, respond.

Replies are the ``*_payload`` dicts of bachsurvey.quiz.serializers as they are: they hold exactly
the fields of the output serializers named in the schema, and running them through those
serializers as well cost a busy request about a tenth of its CPU (benchmarks/load). That the two
agree is checked by tests/bachsurvey/quiz/test_api_replies.py (each reply against its serializer)
and by the fuzzing against the schema (tests/bachsurvey/quiz/test_api_fuzz.py).

Participants are anonymous, but each is bound to the browser session that created it
(bachsurvey.quiz.session): an id that is not this browser's own answers 404, whoever knows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NoReturn

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from bachsurvey.consent import codes
from bachsurvey.quiz import clip_urls, errors, services, session, sql, throttles
from bachsurvey.quiz.errors import SurveyError
from bachsurvey.quiz.parsers import SafeJSONParser, too_large
from bachsurvey.quiz.serializers import (
    AnswerCreatedOutput,
    AnswerInput,
    ErrorOutput,
    ParticipantCreatedOutput,
    ParticipantInput,
    ProgressOutput,
    WithdrawnOutput,
    answer_payload,
    progress_payload,
    question_payload,
)

ERROR_STATUS: dict[type[SurveyError], int] = {
    errors.NotAssigned: status.HTTP_400_BAD_REQUEST,
    errors.UnknownParticipant: status.HTTP_404_NOT_FOUND,
    errors.ParticipantWithdrawn: status.HTTP_403_FORBIDDEN,
    errors.AlreadyAnswered: status.HTTP_409_CONFLICT,
    errors.OutOfOrder: status.HTTP_409_CONFLICT,
    errors.NotFinished: status.HTTP_409_CONFLICT,
    errors.NotEnoughQuestions: status.HTTP_503_SERVICE_UNAVAILABLE,
    errors.StudyChanged: status.HTTP_409_CONFLICT,
    errors.TooYoung: status.HTTP_400_BAD_REQUEST,
    errors.GuardianRequired: status.HTTP_400_BAD_REQUEST,
}

# A body the serializer refuses: {"field": ["message", …]}, or {"detail"} for one that is not JSON.
ValidationErrorOutput = OpenApiResponse(
    OpenApiTypes.OBJECT, description="malformed: messages by field, or a detail"
)


def participant_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, with a code beside every lone detail ({"detail", "code"}, the schema's
    ErrorOutput): a 404 for another browser's participant, a 403 without the CSRF token…"""
    response = exception_handler(exc, context)
    data = None if response is None else response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        data["code"] = getattr(data["detail"], "code", None) or "error"
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 (handler404): JSON in the API's error shape under /api/, where a URL that
    matches no route (a participant id that is not a UUID) would otherwise get an HTML page."""
    if request.path.startswith("/api/"):
        body = {"detail": _("No such resource."), "code": "not_found"}
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


class ParticipantSessionAuthentication(SessionAuthentication):
    """DRF checks CSRF only for logged-in users; these anonymous writes are bound to the
    session cookie too, so a foreign site must not be able to make them: check CSRF always."""

    def authenticate(self, request: Request):  # type: ignore[no-untyped-def]
        user = super().authenticate(request)
        if user is None:
            self.enforce_csrf(request)
        return user


class ParticipantSessionScheme(OpenApiAuthenticationExtension):
    """Describes ParticipantSessionAuthentication in the OpenAPI schema: the session cookie."""

    target_class = ParticipantSessionAuthentication
    name = "participantSession"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class ParticipantApi(APIView):
    authentication_classes = [ParticipantSessionAuthentication]
    permission_classes = [AllowAny]
    parser_classes = [SafeJSONParser]
    throttle_classes: list[type[throttles.RateLimit]] = []

    def get_exception_handler(self) -> Callable[[Exception, dict], Response | None]:
        return participant_exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        return super().handle_exception(too_large(exc))  # 413, not Django's 400 page

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        # A throttled view has one throttle, whose message says what was limited.
        raise throttles.RateLimited(wait, self.throttle_classes[0].message)


def refusal(error: SurveyError) -> Response:
    return Response({"detail": str(error), "code": error.code}, status=ERROR_STATUS[type(error)])


class ParticipantCreateApi(ParticipantApi):
    throttle_classes = [throttles.ParticipantCreationThrottle]

    @extend_schema(
        request=ParticipantInput,
        responses={
            201: ParticipantCreatedOutput,
            400: ValidationErrorOutput,
            403: ErrorOutput,
            409: ErrorOutput,
            413: ErrorOutput,
            429: ErrorOutput,
            503: ErrorOutput,
        },
        summary="Start the quiz: consent, background, and five questions",
        description=(
            "400 with code too_young (the study stops minors) or guardian_required (a minor "
            "without guardian_consent); 409 study_changed when consent_version is not the "
            "current study version. Nothing is stored on a refusal."
        ),
    )
    def post(self, request: Request) -> Response:
        data = ParticipantInput(data=request.data)
        data.is_valid(raise_exception=True)
        django_request: HttpRequest = request._request
        values = data.validated_data
        try:
            started = services.create_participant(
                age_group=values["age_group"],
                experience=values["experience"],
                attempt=session.next_attempt(django_request),
                heard=services.heard_questions(session.earlier_participant_ids(django_request)),
                consent_version=values.get("consent_version"),
                guardian_confirmed=values["guardian_consent"],
            )
        except SurveyError as error:
            return refusal(error)
        return reply_started(django_request, started)


def reply_started(request: HttpRequest, started: services.Started) -> Response:
    """Bind a new participant to this browser and reply with its questions (201). An attempt
    played again shares the earlier one's withdrawal code, which the session already shows."""
    participant = started.participant
    code = (
        codes.display(started.withdrawal_code)
        if started.withdrawal_code
        else session.withdrawal_code(request) or ""
    )
    session.bind(request, participant, code)
    quiz = sql.quiz_of(participant.pk)
    assert quiz is not None  # created by the caller, in a transaction that has committed
    clip_urls.remember(request, quiz)
    payload = {"id": participant.pk, "questions": [question_payload(i) for i in quiz.items]}
    return Response(payload, status=status.HTTP_201_CREATED)


class PlayAgainApi(ParticipantApi):
    throttle_classes = [throttles.ParticipantCreationThrottle]

    @extend_schema(
        request=None,
        responses={
            201: ParticipantCreatedOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
            429: ErrorOutput,
            503: ErrorOutput,
        },
        summary="Play again after finishing: a new attempt, the earlier answers kept",
    )
    def post(self, request: Request, participant_id: str) -> Response:
        django_request: HttpRequest = request._request
        own_id = session.own_participant_id(django_request, participant_id)
        try:
            started = services.play_again(
                previous_id=own_id,
                attempt=session.next_attempt(django_request),
                earlier=session.earlier_participant_ids(django_request),
            )
        except SurveyError as error:
            return refusal(error)
        return reply_started(django_request, started)


class ParticipantDetailApi(ParticipantApi):
    @extend_schema(
        responses={200: ProgressOutput, 404: ErrorOutput},
        summary="Progress, and the results once finished",
    )
    def get(self, request: Request, participant_id: str) -> Response:
        quiz = sql.quiz_of(session.own_participant_id(request._request, participant_id))
        if quiz is None:
            raise Http404(_("No such participant."))
        return Response(progress_payload(quiz, session.withdrawal_code(request._request)))


class AnswerCreateApi(ParticipantApi):
    throttle_classes = [throttles.AnswerThrottle]

    @extend_schema(
        request=AnswerInput,
        responses={
            201: AnswerCreatedOutput,
            400: ValidationErrorOutput,
            403: ErrorOutput,
            404: ErrorOutput,
            409: ErrorOutput,
            413: ErrorOutput,
            429: ErrorOutput,
        },
        summary="Answer the current question; stored at once, never overwritten",
    )
    def post(self, request: Request, participant_id: str) -> Response:
        own_id = session.own_participant_id(request._request, participant_id)
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            values = data.validated_data
            submitted = services.submit_answer(
                participant_id=own_id,
                question_id=values["question"],
                choice=values["choice"],
                response_ms=values["response_ms"],
                plays=values["plays"],
                heard_fully=values["heard_fully"],
                elapsed_ms=values.get("elapsed_ms"),
            )
        except SurveyError as error:
            return refusal(error)
        if submitted.finished:  # the clip URLs now expire CLIP_URL_SECONDS from here
            clip_urls.mark_ended(own_id, time.time())
        # Built from what the service returned, without another query: the answer is committed,
        # and nothing after the commit may fail the reply (see services.submit_answer).
        payload = {
            **answer_payload(submitted.item),
            "answered": submitted.answered,
            "finished": submitted.finished,
        }
        return Response(payload, status=status.HTTP_201_CREATED)


class WithdrawApi(ParticipantApi):
    @extend_schema(
        request=None,
        responses={200: WithdrawnOutput, 403: ErrorOutput, 404: ErrorOutput},
        summary="Withdraw: delete this participant's answers and background",
    )
    def post(self, request: Request, participant_id: str) -> Response:
        participant = session.own_participant(request._request, participant_id)
        earlier = session.earlier_participant_ids(request._request)
        deleted, withdrawn = services.withdraw_attempts(participant, earlier)
        for pk in withdrawn:
            clip_urls.mark_ended(pk, 0)  # their clip URLs open nothing any more
        return Response(WithdrawnOutput({"status": "withdrawn", "deleted_answers": deleted}).data)
