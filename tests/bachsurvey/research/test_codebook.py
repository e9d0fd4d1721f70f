"""The exports' codebook: one entry per export column, in order, each with meaning, type and
values; docs/codebook.md is what ``write_codebook`` writes; the API serves the same entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework import serializers
from rest_framework.test import APIClient

from bachsurvey.research import codebook, exports
from bachsurvey.research.serializers import AnswerRowOutput

DOCS = Path(__file__).resolve().parents[3] / "docs" / "codebook.md"


def test_every_export_column_is_described_in_order() -> None:
    entries = codebook.codebook()
    assert [e["column"] for e in entries] == list(exports.COLUMNS)
    for entry in entries:
        assert entry["meaning"] and entry["type"], entry
    by_name = {e["column"]: e for e in entries}
    assert by_name["experience"]["values"].startswith("novice (")
    assert by_name["position"]["values"] == "0 to 4"
    assert by_name["bach_side"]["values"] == "A, B"
    assert by_name["temperature"] == {**by_name["temperature"], "type": "number", "nullable": True}
    assert by_name["participant_id"]["type"] == "UUID"


def test_the_export_header_is_the_codebook(db: None) -> None:
    header = next(iter(exports.export_chunks("csv"))).strip().split(",")
    assert header == [e["column"] for e in codebook.codebook()]


def test_docs_codebook_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == codebook.markdown()
    call_command("write_codebook", "--check")


def test_a_stale_codebook_fails_the_check(tmp_path: Path) -> None:
    stale = tmp_path / "codebook.md"
    stale.write_text(codebook.markdown().replace("`answer_id`", "`answer`"), encoding="utf-8")
    with pytest.raises(CommandError, match="stale"):
        call_command("write_codebook", "--check", "--out", str(stale))
    call_command("write_codebook", "--out", str(stale))
    call_command("write_codebook", "--check", "--out", str(stale))


def test_a_column_without_a_meaning_is_an_error() -> None:
    with pytest.raises(ValueError, match="'mystery' has no help text"):
        codebook.describe("mystery", serializers.IntegerField())
    assert list(AnswerRowOutput().fields) == list(exports.COLUMNS)


def test_the_api_serves_the_codebook(api: APIClient) -> None:
    response = api.get("/api/results/codebook/")
    assert response.status_code == 200
    assert response.json() == codebook.codebook()
    assert APIClient().get("/api/results/codebook/").status_code == 401
