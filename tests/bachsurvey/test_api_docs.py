"""/api/docs/: the API's reference, rendered on the server from the OpenAPI schema, with no
script and nothing from another site; /api/schema/ shows as text in a browser."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client

from bachsurvey.api_docs import reference, type_of
from bachsurvey.security_headers import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def schema(client: Client) -> dict:
    return yaml.safe_load(client.get("/api/schema/").content)


def test_every_operation_and_schema_is_on_the_page(client: Client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    spec = schema(client)
    for path, item in spec["paths"].items():
        for method in item:
            assert f'<code class="method">{method.upper()}</code> <code>{path}</code>' in html
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<code>date_from</code>" in html and "<code>exclude_repeat_attempts</code>" in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another site


def test_types_are_described_in_words() -> None:
    assert type_of({"type": "string", "format": "date"}) == {"text": "string (date)"}
    assert type_of({"type": "array", "items": {"$ref": "#/components/schemas/Cell"}}) == {
        "text": "array of",
        "ref": "Cell",
    }
    assert type_of({"type": "integer", "nullable": True})["text"] == "integer, or null"
    page = reference({"paths": {"/x/": {"get": {"operationId": "x", "responses": {}}}}})
    assert page["operations"][0]["auth"] == ["none"] and page["components"] == []


def test_the_schema_shows_in_a_browser_and_tools_get_yaml(client: Client) -> None:
    browser = client.get("/api/schema/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser["Content-Type"].startswith("text/plain")
    assert browser.get("Content-Disposition", "inline").startswith("inline")  # not attachment
    assert yaml.safe_load(browser.content)["info"]["title"] == "Bach or Bot API"
    tool = client.get("/api/schema/")
    assert tool["Content-Type"].startswith("application/vnd.oai.openapi")
    assert client.get("/api/schema/", {"format": "json"}).json()["openapi"].startswith("3.")
