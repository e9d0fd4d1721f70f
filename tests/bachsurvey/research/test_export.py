"""The answer exports: columns, one row per answer, values from the database, and streaming."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bachsurvey.models import Answer
from bachsurvey.research import exports, records
from tests.bachsurvey.research.data import Seeded


def body(response: StreamingHttpResponse) -> str:
    return b"".join(response.streaming_content).decode()


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_csv_has_the_columns_and_one_row_per_answer(seeded: Seeded, api: APIClient) -> None:
    response = api.get("/api/results/answers.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="bach-or-bot-answers-')
    assert response["Cache-Control"] == "private, no-store"
    header, rows = csv_rows(body(response))
    assert header == list(exports.COLUMNS)
    assert len(rows) == len(seeded.answers)
    assert {int(r["answer_id"]) for r in rows} == {a["answer"].pk for a in seeded.answers}


def test_json_is_an_array_of_the_same_rows(seeded: Seeded, api: APIClient) -> None:
    response = api.get("/api/results/answers.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    rows = json.loads(body(response))
    assert len(rows) == len(seeded.answers)
    assert all(list(row) == list(exports.COLUMNS) for row in rows)
    _, csv_version = csv_rows(body(api.get("/api/results/answers.csv")))
    assert [r["answer_id"] for r in rows] == [int(r["answer_id"]) for r in csv_version]


def test_a_row_holds_the_answer_and_its_provenance(seeded: Seeded, api: APIClient) -> None:
    rows = {r["answer_id"]: r for r in json.loads(body(api.get("/api/results/answers.json")))}
    for fact in seeded.answers[:40]:
        answer = Answer.objects.select_related(
            "assignment__participant", "assignment__question__clip_generated__chorale__batch"
        ).get(pk=fact["answer"].pk)
        row, assignment = rows[answer.pk], answer.assignment
        participant, question = assignment.participant, assignment.question
        generated = question.clip_generated.chorale
        assert row["participant_id"] == str(participant.pk)
        assert (row["age_group"], row["experience"]) == (participant.age_group, fact["experience"])
        assert row["attempt"] == participant.attempt
        assert (row["question_id"], row["category"]) == (str(question.pk), question.category)
        assert (row["bach_side"], row["choice"]) == (assignment.bach_side, answer.choice)
        assert row["correct"] is fact["correct"] is (row["bach_side"] == row["choice"])
        assert (row["response_ms"], row["elapsed_ms"]) == (answer.response_ms, answer.elapsed_ms)
        assert (row["plays_a"], row["plays_b"]) == (answer.plays["A"], answer.plays["B"])
        assert (row["heard_fully_a"], row["heard_fully_b"]) == (
            answer.heard_fully["A"],
            answer.heard_fully["B"],
        )
        assert row["heard_fully"] is fact["heard_fully"]
        assert row["answered_at"].startswith(f"2026-03-0{2 + fact['day']}T09:00:00")
        assert row["generated_duration_s"] == question.clip_generated.duration_s
        assert row["checkpoint"] == generated.checkpoint and row["seed"] == generated.seed
        assert row["temperature"] == generated.temperature and row["mask"] == question.category
        assert (row["batch"], row["batch_id"]) == (seeded.batch.name, seeded.batch.pk)


def test_csv_writes_empty_fields_for_nulls_and_z_times(seeded: Seeded, api: APIClient) -> None:
    _, rows = csv_rows(body(api.get("/api/results/answers.csv")))
    unknown = [r for r in rows if r["elapsed_ms"] == ""]
    assert len(unknown) == sum(a["faster"] is None for a in seeded.answers) > 0
    assert all(r["answered_at"].endswith("Z") for r in rows)
    assert {r["correct"] for r in rows} == {"True", "False"}


def test_the_withdrawn_participants_answers_are_not_exported(seeded: Seeded) -> None:
    assert Answer.objects.count() == len(seeded.answers) + seeded.withdrawn_answers
    assert exports.export_queryset().count() == len(seeded.answers)


def test_the_export_streams_in_chunks(
    seeded: Seeded, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is read while the response is built; the body is produced as it is sent, from a
    queryset iterated ``chunk_size`` rows at a time (a server-side cursor on PostgreSQL)."""
    chunk_sizes: list[int] = []
    iterator = QuerySet.iterator

    def spy(self: QuerySet, chunk_size: int | None = None) -> Any:
        if self.model is Answer:
            chunk_sizes.append(chunk_size)
        return iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    monkeypatch.setattr(records, "CHUNK_SIZE", 25)
    monkeypatch.setattr(exports, "TEXT_BATCH", 10)
    for fmt in ("csv", "json"):
        chunk_sizes.clear()
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"/api/results/answers.{fmt}")
        assert isinstance(response, StreamingHttpResponse)
        assert not any("bachsurvey_answer" in q["sql"] for q in queries.captured_queries)
        assert chunk_sizes == []  # nothing iterated yet
        with CaptureQueriesContext(connection) as queries:
            pieces = list(response.streaming_content)
        assert chunk_sizes == [25]
        reads = [q for q in queries.captured_queries if "bachsurvey_answer" in q["sql"]]
        assert len(reads) == 1  # one query, whose rows are fetched 25 at a time
        # The body arrives in many pieces, never as one string of every row.
        assert len(pieces) >= len(seeded.answers) // 10


def test_export_results_writes_csv_and_json(seeded: Seeded, tmp_path: Any) -> None:
    for fmt in ("csv", "json"):
        out = tmp_path / "nested" / f"answers.{fmt}"
        err = io.StringIO()
        call_command("export_results", "--format", fmt, "--out", str(out), stderr=err)
        text = out.read_text()
        if fmt == "csv":
            header, rows = csv_rows(text)
            assert header == list(exports.COLUMNS)
        else:
            rows = json.loads(text)
        assert len(rows) == len(seeded.answers)
        assert f"Exported {len(seeded.answers)} answers as {fmt}" in err.getvalue()
        assert out.stat().st_mode & 0o077 == 0  # research data: private to its owner
    # Nothing but the two exports: no temporary file left behind.
    assert sorted(p.name for p in (tmp_path / "nested").iterdir()) == [
        "answers.csv",
        "answers.json",
    ]


def test_export_results_to_stdout(seeded: Seeded) -> None:
    out = io.StringIO()
    call_command(
        "export_results", "--format", "json", "--out", "-", stdout=out, stderr=io.StringIO()
    )
    assert len(json.loads(out.getvalue())) == len(seeded.answers)


def test_export_results_refuses_an_unknown_format(db: None, tmp_path: Any) -> None:
    with pytest.raises(CommandError):
        call_command("export_results", "--format", "xlsx", "--out", str(tmp_path / "x"))


def test_an_empty_export_is_valid(db: None, api: APIClient) -> None:
    assert json.loads(body(api.get("/api/results/answers.json"))) == []
    header, rows = csv_rows(body(api.get("/api/results/answers.csv")))
    assert header == list(exports.COLUMNS) and rows == []


def test_csv_is_served_to_a_client_that_accepts_only_csv(seeded: Seeded, api: APIClient) -> None:
    response = api.get("/api/results/answers.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and body(response).startswith("answer_id,")
