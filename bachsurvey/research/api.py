"""The researchers' API: the statistics as JSON, per-item figures, and the answer exports.

Only members of the "researcher" group get in, by API token (``Authorization: Token …``, made
by ``create_researcher``; wrong tokens count toward the login lockout) or by their logged-in
session (the dashboard's export links); never by password (no HTTP Basic).
Anonymous requests get 401; a logged-in non-researcher, or a quiz participant's session, 403.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bachsurvey.logins.tokens import LockoutTokenAuthentication
from bachsurvey.quiz import session
from bachsurvey.research import codebook, exports, records, report, role
from bachsurvey.research.serializers import (
    AnswerRowOutput,
    CodebookOutput,
    DetailOutput,
    ItemsOutput,
    ResultsQuery,
    SummaryOutput,
)

REFUSALS = {
    401: OpenApiResponse(DetailOutput, description="no credentials"),
    403: OpenApiResponse(DetailOutput, description="not a researcher"),
}
BAD_QUERY = {
    400: OpenApiResponse(
        DetailOutput, description="an exclusion option is not a boolean, or a date is not a date"
    )
}
EXPORT_DOC = (
    "One row per stored answer of every participant who has not withdrawn, streamed: participant "
    "background, question, Bach's side, choice, timings, plays, and the generated sample's "
    "provenance. No exclusion rule is applied; the columns let you apply them."
)


class IsResearcher(BasePermission):
    message = "Only researchers may see the results."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.user and request.user.is_authenticated:
            return role.is_researcher(request.user)
        if session.bound_participant_id(request._request):
            raise PermissionDenied("Quiz participants may not see the results.")
        return False  # anonymous: DRF answers 401 with WWW-Authenticate: Token


class ExportNegotiation(BaseContentNegotiation):
    """The exports answer whatever the client accepts (``Accept: text/csv`` included): the body
    is the export's own format, streamed past DRF's renderers, and refusals are JSON."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class ResearcherApi(APIView):
    authentication_classes = [LockoutTokenAuthentication, SessionAuthentication]
    permission_classes = [IsResearcher]


def query_from(request: Request) -> ResultsQuery:
    query = ResultsQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query


def cached_summary(request: Request, *, fit_model: bool = True) -> dict:
    query = query_from(request)
    return report.summary(query.exclusions(), query.dates(), query.params(), fit_model=fit_model)


class SummaryApi(ResearcherApi):
    @extend_schema(
        parameters=[ResultsQuery],
        responses={200: SummaryOutput, **BAD_QUERY, **REFUSALS},
        summary="The statistics: cells, items, mixed model, exclusions",
    )
    def get(self, request: Request) -> Response:
        return Response(SummaryOutput(cached_summary(request)).data)


class ItemsApi(ResearcherApi):
    @extend_schema(
        parameters=[ResultsQuery],
        responses={200: ItemsOutput, **BAD_QUERY, **REFUSALS},
        summary="Per item: how often its generated sample fooled listeners, with provenance",
    )
    def get(self, request: Request) -> Response:
        result = cached_summary(request, fit_model=False)
        provenance = records.item_provenance(item["item_id"] for item in result["items"])
        items = [{**item, **provenance[item["item_id"]]} for item in result["items"]]
        payload = {"exclusions": result["exclusions"], "n": result["n"], "items": items}
        return Response(ItemsOutput(payload).data)


def stream_export(fmt: str) -> StreamingHttpResponse:
    """The export as an attachment; rows are read from the database as the body is sent."""
    content_type = exports.EXPORT_FORMATS[fmt][1]
    response = StreamingHttpResponse(exports.export_chunks(fmt), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="bach-or-bot-answers-{stamp}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy should pass the stream on, not buffer it
    return response


class ExportApi(ResearcherApi):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = ExportNegotiation


class AnswersCsvApi(ExportApi):
    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR, **REFUSALS},
        operation_id="results_answers_csv",
        summary="Every answer as CSV (streamed)",
        description=EXPORT_DOC + " Columns as in answers.json, in the same order.",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return stream_export("csv")


class AnswersJsonApi(ExportApi):
    @extend_schema(
        responses={200: AnswerRowOutput(many=True), **REFUSALS},
        operation_id="results_answers_json",
        summary="Every answer as a JSON array (streamed)",
        description=EXPORT_DOC,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return stream_export("json")


class CodebookApi(ResearcherApi):
    @extend_schema(
        responses={200: CodebookOutput(many=True), **REFUSALS},
        summary="The exports' columns: meaning, type and values (docs/codebook.md)",
    )
    def get(self, request: Request) -> Response:
        return Response(CodebookOutput(codebook.codebook(), many=True).data)
