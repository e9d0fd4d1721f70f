"""The stored answers as researchers see them: every answer of a participant who has not
withdrawn is one ``stats.AnswerRecord`` (``answer_records``), for the statistics and the
dashboard. The item is the question; heard fully means both clips were played to the end (the
browser) and sent in full (the server); the faster-than-clips rule compares ``elapsed_ms`` (the
browser) and ``server_elapsed_ms`` (the server) with the two clips' durations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import F, QuerySet

from bachsurvey.models import Answer, Question, Side
from bachsurvey.research.stats import AnswerRecord, Exclusions, apply_exclusions, summarize

CHUNK_SIZE = 2000  # rows fetched from the database at a time (records and exports)


def answers() -> QuerySet[Answer]:
    """Every stored answer of a participant who has not withdrawn, oldest first.

    Withdrawing deletes a participant's answers; the filter is a second guard, so that an answer
    left behind by any path never reaches the statistics or an export.
    """
    return Answer.objects.filter(assignment__participant__withdrawn_at__isnull=True).order_by("pk")


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
}


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
    )


def answer_records() -> list[AnswerRecord]:
    """One ``AnswerRecord`` per answer, read in chunks."""
    rows = answers().values(*_RECORD_FIELDS, **_RECORD_JOINS)
    return [_record(row) for row in rows.iterator(chunk_size=CHUNK_SIZE)]


def summary(
    exclusions: Exclusions | None = None, *, fit_model: bool = True
) -> tuple[dict[str, Any], list[AnswerRecord]]:
    """``stats.summarize`` of the stored answers, and the records it kept (for the plots)."""
    records = answer_records()
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
