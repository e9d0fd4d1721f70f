"""The stored answers as researchers see them: every answer of a participant who has not
withdrawn is one ``stats.AnswerRecord`` (``answer_records``), for the statistics and the
dashboard. The item is the question; heard fully means both clips were played to the end (the
browser) and sent in full (the server); the faster-than-clips rule compares ``elapsed_ms`` (the
browser) and ``server_elapsed_ms`` (the server) with the two clips' durations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet

from bachsurvey.models import Answer, Question, Side
from bachsurvey.research.stats import AnswerRecord, Exclusions, apply_exclusions, summarize

CHUNK_SIZE = 2000  # rows fetched from the database at a time (records and exports)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Days from ``first`` to ``last``, both included, in UTC (the site's time zone, and the days
    of the "answers over time" plot); None leaves that end open."""

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first and self.last and self.first > self.last:
            raise ValueError(f"the range starts ({self.first}) after it ends ({self.last})")

    def within(self, field: str) -> Q:
        """``field`` (a datetime) on one of the days."""
        query = Q()
        if self.first:
            query &= Q(**{f"{field}__gte": datetime.combine(self.first, time.min, UTC)})
        if self.last:
            after = self.last + timedelta(days=1)
            query &= Q(**{f"{field}__lt": datetime.combine(after, time.min, UTC)})
        return query


EVERY_DAY = DateRange()


def answers(dates: DateRange = EVERY_DAY) -> QuerySet[Answer]:
    """Every stored answer of a participant who has not withdrawn, given on ``dates``, oldest
    first.

    Withdrawing deletes a participant's answers; the filter is a second guard, so that an answer
    left behind by any path never reaches the statistics or an export.
    """
    kept = Answer.objects.filter(assignment__participant__withdrawn_at__isnull=True)
    return kept.filter(dates.within("created_at")).order_by("pk")


def heard_both(heard_fully: object) -> bool:
    return isinstance(heard_fully, dict) and all(heard_fully.get(side) for side in Side.values)


_RECORD_FIELDS = (
    "correct",
    "response_ms",
    "heard_fully",
    "elapsed_ms",
    "created_at",
    "served",
    "server_elapsed_ms",
)
_RECORD_JOINS = {
    "participant": F("assignment__participant_id"),
    "question": F("assignment__question_id"),
    "category": F("assignment__question__category"),
    "experience": F("assignment__participant__experience"),
    "attempt": F("assignment__participant__attempt"),
    "bach_side": F("assignment__bach_side"),
    "real_s": F("assignment__question__clip_real__duration_s"),
    "generated_s": F("assignment__question__clip_generated__duration_s"),
    "batch": F("assignment__question__clip_generated__chorale__batch__name"),
    "checkpoint": F("assignment__question__clip_generated__chorale__checkpoint"),
    "temperature": F("assignment__question__clip_generated__chorale__temperature"),
}
# A JSON key: values() reads it as a path (an F() or KT() of it cannot cross the joins).
_SEARCH = "assignment__question__clip_generated__chorale__decoding__method"


def _least_served(served: object) -> float | None:
    """The smaller share of the two clips the server sent; None when it did not record both."""
    if not isinstance(served, dict):
        return None
    shares = [served.get(side) for side in Side.values]
    if any(share is None for share in shares):
        return None
    return float(min(shares))


def _record(row: dict[str, Any]) -> AnswerRecord:
    return AnswerRecord(
        participant_id=str(row["participant"]),
        question_id=str(row["question"]),
        item_id=str(row["question"]),  # the item is the question: its pair of clips
        category=row["category"],
        experience=row["experience"],
        correct=bool(row["correct"]),
        response_ms=int(row["response_ms"]),
        heard_fully=heard_both(row["heard_fully"]),
        clip_durations_ms=(round(row["real_s"] * 1000), round(row["generated_s"] * 1000)),
        elapsed_ms=row["elapsed_ms"],
        attempt=int(row["attempt"]),
        created_at=row["created_at"],
        served=_least_served(row["served"]),
        server_elapsed_ms=row["server_elapsed_ms"],
        bach_side=row["bach_side"],
        batch=row["batch"],
        checkpoint=row["checkpoint"],
        temperature=row["temperature"],
        search=row[_SEARCH],
    )


def answer_records(dates: DateRange = EVERY_DAY) -> list[AnswerRecord]:
    """One ``AnswerRecord`` per answer given on ``dates``, read in chunks."""
    rows = answers(dates).values(*_RECORD_FIELDS, _SEARCH, **_RECORD_JOINS)
    return [_record(row) for row in rows.iterator(chunk_size=CHUNK_SIZE)]


def summary(
    exclusions: Exclusions | None = None,
    dates: DateRange = EVERY_DAY,
    *,
    fit_model: bool = True,
) -> tuple[dict[str, Any], list[AnswerRecord]]:
    """``stats.summarize`` of the answers given on ``dates``, and the records it kept (for the
    plots and the breakdowns)."""
    records = answer_records(dates)
    result = summarize(records, exclusions, fit_model=fit_model)
    kept, _ = apply_exclusions(records, exclusions)
    return result, kept


def item_provenance(item_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per item (question id): where its generated sample came from."""
    questions = Question.objects.filter(pk__in=list(item_ids)).select_related(
        "clip_real__chorale", "clip_generated__chorale__batch"
    )
    out = {}
    for question in questions:
        generated = question.clip_generated.chorale
        out[str(question.pk)] = {
            "real_source": question.clip_real.chorale.source,
            "generated_chorale_id": generated.pk,
            "checkpoint": generated.checkpoint,
            "temperature": generated.temperature,
            "seed": generated.seed,
            "mask": generated.mask,
            "batch": generated.batch.name if generated.batch else None,
            "duration_s": question.clip_real.duration_s,
            "live": question.live,
        }
    return out
