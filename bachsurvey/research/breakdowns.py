"""Accuracy by where the generated sample came from: its batch, its checkpoint, its temperature.

Each group is a ``stats.cell`` (accuracy, Wilson and exact 95% intervals, p, d′) of the answers
kept, so a breakdown is read like the dashboard's other tables. A piece found by search
(harmonizations: greedy or beam) has no temperature; it is grouped under its search method.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from bachsurvey.research.stats import AnswerRecord, cell

NO_BATCH = "no batch (fixtures)"
NO_CHECKPOINT = "not recorded"


def temperature_label(record: AnswerRecord) -> str:
    if record.temperature is not None:
        return f"{record.temperature:g}"
    if record.search:
        return f"{record.search} search"
    return NO_CHECKPOINT


# Factor name -> (heading, the group of one answer).
FACTORS: dict[str, tuple[str, Callable[[AnswerRecord], str]]] = {
    "batch": ("Batch", lambda r: r.batch or NO_BATCH),
    "checkpoint": ("Checkpoint", lambda r: r.checkpoint or NO_CHECKPOINT),
    "temperature": ("Temperature", temperature_label),
}


def _order(label: str) -> tuple[int, float, str]:
    """Numbers in numeric order (temperatures), then the rest by name."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def breakdown(records: Sequence[AnswerRecord], factor: str) -> list[dict[str, Any]]:
    """One cell per group of ``factor`` among ``records``, labelled by ``group``."""
    if factor not in FACTORS:
        raise ValueError(f"unknown breakdown {factor!r}; use one of {sorted(FACTORS)}")
    group_of = FACTORS[factor][1]
    n: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for record in records:
        group = group_of(record)
        n[group] += 1
        right[group] += bool(record.correct)
    return [{"group": g, **cell(n[g], right[g])} for g in sorted(n, key=_order)]


def breakdowns(records: Sequence[AnswerRecord]) -> list[dict[str, Any]]:
    """Every factor's breakdown: ``[{"factor", "heading", "groups": [CELL + group]}]``."""
    return [
        {"factor": name, "heading": heading, "groups": breakdown(records, name)}
        for name, (heading, _) in FACTORS.items()
    ]
