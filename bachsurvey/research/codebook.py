"""The codebook of the answer exports: every column with its meaning, type and values.

It is read from ``AnswerRowOutput``, the serializer that describes an export row in the API's
schema and whose fields are the exports' columns in order (a test holds the two together): its
help texts are the meanings, its field classes the types, its choices and bounds the values. So
the codebook cannot drift from the exports; ``docs/codebook.md`` is written from it by
``manage.py write_codebook`` (a test fails when the file is stale).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bachsurvey.models import Side
from bachsurvey.research.exports import COLUMNS
from bachsurvey.research.serializers import AnswerRowOutput
from composer.voices import CATEGORIES

# Field class -> (type, values), most specific first (a ChoiceField is no CharField here).
_TYPES: list[tuple[type[serializers.Field], str, str]] = [
    (serializers.ChoiceField, "text (code)", ""),
    (serializers.BooleanField, "boolean", "CSV: True or False; JSON: true or false"),
    (serializers.UUIDField, "UUID", "e.g. 0b7e4c2a-5d1f-4c39-9a57-2f1d6c8e9b10"),
    (serializers.DateTimeField, "date-time", "ISO 8601 in UTC, e.g. 2026-03-02T09:00:00.123Z"),
    (serializers.IntegerField, "integer", ""),
    (serializers.FloatField, "number", ""),
    (serializers.CharField, "text", ""),
]
HEADINGS = ("column", "type", "nullable", "values", "meaning")
# Codes the serializer keeps as plain strings (one Side enum in the schema), with their values.
_CODES = {"bach_side": Side.values, "choice": Side.values, "mask": list(CATEGORIES)}


def _bounds(field: serializers.Field) -> str:
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"{low} or more"
    return ""


def describe(name: str, field: serializers.Field) -> dict[str, Any]:
    """One column's entry; a field without help text, or of a type not listed, is an error."""
    if not field.help_text:
        raise ValueError(f"export column {name!r} has no help text: say what it means")
    known = [(t, v) for kind, t, v in _TYPES if isinstance(field, kind)]
    if not known:
        raise ValueError(f"export column {name!r} has a type the codebook does not know")
    type_name, values = known[0]
    if isinstance(field, serializers.ChoiceField):
        values = "; ".join(f"{code} ({label})" for code, label in field.choices.items())
    elif name in _CODES:
        values = ", ".join(_CODES[name])
    return {
        "column": name,
        "type": type_name,
        "nullable": bool(field.allow_null),
        "values": values or _bounds(field),
        "meaning": str(field.help_text),
    }


def codebook() -> list[dict[str, Any]]:
    """Every export column, in the exports' order."""
    fields = AnswerRowOutput().fields
    if list(fields) != list(COLUMNS):
        raise ValueError("AnswerRowOutput's fields are not the export's columns, in order")
    return [describe(name, fields[name]) for name in COLUMNS]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|")


def markdown() -> str:
    """The codebook as docs/codebook.md."""
    lines = [
        "# Codebook of the answer exports",
        "",
        "`GET /api/results/answers.csv` and `answers.json` (and `manage.py export_results`) have",
        "one row per answer of every participant who has not withdrawn, with these columns in",
        "this order. No exclusion rule is applied; the columns let you apply them (see",
        "docs/results.md). Empty CSV fields are null in JSON. The same table, as JSON, is at",
        "`GET /api/results/codebook/`.",
        "",
        "Written by `python manage.py write_codebook` from the export's own column list",
        "(bachsurvey/research/codebook.py); do not edit it by hand.",
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|" + "---|" * len(HEADINGS),
    ]
    for entry in codebook():
        row = {**entry, "column": f"`{entry['column']}`"}
        row["nullable"] = "yes" if entry["nullable"] else "no"
        lines.append("| " + " | ".join(_cell(row[h]) for h in HEADINGS) + " |")
    return "\n".join(lines) + "\n"
