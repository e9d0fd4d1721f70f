"""The answer exports: one row per stored answer of a participant who has not withdrawn, as CSV
or JSON (the API's downloads and ``export_results``).

Exports stream: ``export_rows`` reads ``.values()`` rows (joined in one query, like
``select_related``, without building model instances) through ``.iterator(chunk_size=...)``
(a server-side cursor on PostgreSQL), and ``csv_chunks`` / ``json_chunks`` turn them into text a
few hundred rows at a time, so memory stays flat however many answers there are
(``benchmarks/export_stream.py``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from bachsurvey.models import Answer
from bachsurvey.research import records

TEXT_BATCH = 500  # rows joined into one piece of the response body

# Export column -> the ORM path it is read from (None: derived in export_row).
_SOURCES: dict[str, str | None] = {
    "answer_id": "id",
    "participant_id": "assignment__participant_id",
    "age_group": "assignment__participant__age_group",
    "experience": "assignment__participant__experience",
    "attempt": "assignment__participant__attempt",
    "participant_started_at": "assignment__participant__created_at",
    "participant_finished_at": "assignment__participant__finished_at",
    # The study version the participant agreed to (bachsurvey.models.study); empty for those who
    # started before the study was described on the site.
    "consent_version": "assignment__participant__study__version",
    "guardian_confirmed": "assignment__participant__guardian_confirmed",
    "question_id": "assignment__question_id",
    "category": "assignment__question__category",
    "position": "assignment__position",
    "bach_side": "assignment__bach_side",
    "choice": "choice",
    "correct": "correct",
    "response_ms": "response_ms",
    "elapsed_ms": "elapsed_ms",
    "server_elapsed_ms": "server_elapsed_ms",
    "plays_a": None,
    "plays_b": None,
    "heard_fully_a": None,
    "heard_fully_b": None,
    "heard_fully": None,
    "clip_a_served": None,
    "clip_b_served": None,
    "answered_at": "created_at",
    "real_clip_id": "assignment__question__clip_real_id",
    "real_source": "assignment__question__clip_real__chorale__source",
    "real_duration_s": "assignment__question__clip_real__duration_s",
    "generated_clip_id": "assignment__question__clip_generated_id",
    "generated_duration_s": "assignment__question__clip_generated__duration_s",
    "generated_chorale_id": "assignment__question__clip_generated__chorale_id",
    "generated_source": "assignment__question__clip_generated__chorale__source",
    "checkpoint": "assignment__question__clip_generated__chorale__checkpoint",
    "temperature": "assignment__question__clip_generated__chorale__temperature",
    "seed": "assignment__question__clip_generated__chorale__seed",
    "mask": "assignment__question__clip_generated__chorale__mask",
    "batch_id": "assignment__question__clip_generated__chorale__batch_id",
    "batch": "assignment__question__clip_generated__chorale__batch__name",
}
COLUMNS: tuple[str, ...] = tuple(_SOURCES)
_RAW = {"plays": "plays", "heard": "heard_fully", "served": "served"}


def export_row(values: dict[str, Any]) -> dict[str, Any]:
    """One export row, in ``COLUMNS`` order, from a ``.values()`` row of ``export_queryset``."""
    plays = values[_RAW["plays"]] or {}
    heard = values[_RAW["heard"]] or {}
    served = values[_RAW["served"]] or {}
    row = {column: values[source] for column, source in _SOURCES.items() if source is not None}
    row.update(
        plays_a=plays.get("A"),
        plays_b=plays.get("B"),
        heard_fully_a=heard.get("A"),
        heard_fully_b=heard.get("B"),
        heard_fully=records.heard_both(heard),
        clip_a_served=served.get("A"),
        clip_b_served=served.get("B"),
    )
    return {column: row[column] for column in COLUMNS}


def export_queryset() -> QuerySet[Answer, dict[str, Any]]:
    fields = [source for source in _SOURCES.values() if source is not None]
    return records.answers().values(*fields, *_RAW.values())


def export_rows(chunk_size: int | None = None) -> Iterator[dict[str, Any]]:
    """The export's rows, fetched ``chunk_size`` at a time; nothing is read until iterated."""
    queryset = export_queryset()
    for values in queryset.iterator(chunk_size=chunk_size or records.CHUNK_SIZE):
        yield export_row(values)


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    size = TEXT_BATCH
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_ENCODER = DjangoJSONEncoder()


def _csv_value(value: object) -> object:
    """Timestamps and ids written as in the JSON export (ISO 8601, UTC as Z)."""
    if isinstance(value, datetime | UUID):
        return _ENCODER.default(value)
    return value


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then the rows as CSV text, a batch at a time (None becomes an empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for batch in _batches(rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_value(row[c]) for c in COLUMNS] for row in batch)
        yield buffer.getvalue()


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of row objects, written a batch at a time."""
    yield "["
    separator = "\n"
    for batch in _batches(rows):
        yield separator + ",\n".join(json.dumps(row, cls=DjangoJSONEncoder) for row in batch)
        separator = ",\n"
    yield "\n]\n"


EXPORT_FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "json": (json_chunks, "application/json"),
}


def export_chunks(fmt: str, chunk_size: int | None = None) -> Iterator[str]:
    """The whole export in ``fmt`` ("csv" or "json"), lazily."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {sorted(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[fmt][0](export_rows(chunk_size))
