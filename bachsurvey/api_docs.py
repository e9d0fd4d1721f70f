"""The API's reference page (/api/docs/), rendered on the server from the OpenAPI schema, and the
schema itself made readable in a browser.

Swagger UI and Redoc are scripts from a CDN (or a package of their own), and need inline script
or eval, which the site's CSP forbids (bachsurvey.security_headers). This page needs none: it
is plain HTML, written from the same schema drf-spectacular serves at /api/schema/, listing
every operation with its parameters, request body and responses, and every schema's fields. So
the page cannot drift from the API either.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

METHODS = ("get", "post", "put", "patch", "delete")
REF = "#/components/schemas/"


def type_of(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A schema in a few words: ``{"text": "array of", "ref": "CellOutput"}`` or ``{"text":
    "string (date)"}``; ``ref`` names a schema listed on the page."""
    if not schema:
        return {"text": "any"}
    if "$ref" in schema:
        return {"text": "", "ref": schema["$ref"].removeprefix(REF)}
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            parts = [type_of(s) for s in schema[combined]]
            refs = [p["ref"] for p in parts if "ref" in p]
            text = " | ".join(p["text"] for p in parts if p["text"])
            return {"text": text, **({"ref": refs[0]} if refs else {})}
    if schema.get("type") == "array":
        inner = type_of(schema.get("items"))
        return {**inner, "text": f"array of {inner['text']}".strip()}
    text = schema.get("type", "object")
    if "format" in schema:
        text += f" ({schema['format']})"
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"] if v not in ("", None))
    if schema.get("nullable"):
        text += ", or null"
    return {"text": text}


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": parameter["name"],
        "where": parameter.get("in", ""),
        "required": bool(parameter.get("required")),
        "type": type_of(parameter.get("schema")),
        "description": parameter.get("description", ""),
    }


def _contents(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [
        {"media_type": media_type, "type": type_of(content.get("schema"))}
        for media_type, content in (body or {}).get("content", {}).items()
    ]


def _operation(path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    return {
        "anchor": operation.get("operationId", f"{method}-{path}"),
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "auth": [name for scheme in operation.get("security", []) for name in scheme] or ["none"],
        "parameters": [_parameter(p) for p in operation.get("parameters", [])],
        "body": _contents(operation.get("requestBody")),
        "responses": [
            {"status": status, "description": r.get("description", ""), "contents": _contents(r)}
            for status, r in operation.get("responses", {}).items()
        ],
    }


def _component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    required = set(schema.get("required", []))
    fields = [
        {
            "name": field,
            "type": type_of(spec),
            "required": field in required,
            "description": spec.get("description", ""),
        }
        for field, spec in schema.get("properties", {}).items()
    ]
    return {"name": name, "description": schema.get("description", ""), "fields": fields,
            "type": type_of({k: v for k, v in schema.items() if k != "properties"})}  # fmt: skip


def reference(schema: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: the title, the operations and the schemas."""
    operations = [
        _operation(path, method, item[method])
        for path, item in schema.get("paths", {}).items()
        for method in METHODS
        if method in item
    ]
    components = schema.get("components", {}).get("schemas", {})
    return {
        "info": schema.get("info", {}),
        "operations": operations,
        "components": [_component(name, spec) for name, spec in components.items()],
        "security": schema.get("components", {}).get("securitySchemes", {}),
    }


@cache
def site_reference() -> dict[str, Any]:
    """The reference of this site's schema: it changes only with the code, so it is made once
    per process."""
    return reference(SchemaGenerator().get_schema(request=None, public=True))


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api_docs.html", site_reference())


class YamlTextRenderer(OpenApiYamlRenderer):
    """The schema's YAML as text/plain: a browser shows it instead of downloading it."""

    media_type = "text/plain"


class SchemaView(SpectacularAPIView):
    """/api/schema/: YAML (or JSON) for tools as before; a browser's page request (Accept:
    text/html first) gets the same YAML as text it can show."""

    renderer_classes = [*SpectacularAPIView.renderer_classes, YamlTextRenderer]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        accept = request.META.get("HTTP_ACCEPT", "")
        if accept.startswith("text/html") and "format" not in request.query_params:
            return YamlTextRenderer(), "text/plain; charset=utf-8"
        return super().perform_content_negotiation(request, force)
