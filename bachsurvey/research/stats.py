"""The experiment's statistics (SPEC §8, issue 8), independent of the Django models.

The site exists for one honest number — how much better than a coin toss people tell Bach from
the model — and the tables behind it. Everything here works on plain ``AnswerRecord`` values, so
the figures can be tested on synthetic answers and recomputed offline; the Django layer only maps
its rows onto records.

All figures come from scipy / statsmodels, not hand-written formulas: Wilson and Clopper–Pearson
intervals from ``statsmodels.stats.proportion.proportion_confint``, the exact one-sided binomial
test from ``scipy.stats.binomtest``, Φ⁻¹ from ``scipy.stats.norm``, the mixed model from
``statsmodels`` (see ``stats_model``).

Exclusion rules are explicit options, all off by default, and how many answers each rule matches
is reported whether it is on or off: BachBot 2016 silently dropped every answer where the
generated clip came first, and nothing here may drop an answer without saying so.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scipy.stats import binomtest, norm
from statsmodels.stats.proportion import proportion_confint

from bachsurvey.research.stats_model import fit_mixed_model, unfitted
from composer.voices import CATEGORIES

EXPERIENCES: tuple[str, ...] = ("novice", "intermediate", "advanced", "expert")
ALL = "all"
ALPHA = 0.05  # 95% intervals throughout

# Exclusion rules, by the name the API's query parameters and the summary use.
EXCLUSION_RULES: dict[str, str] = {
    "not_heard_fully": (
        "either clip was not played to its end (the browser says), or not sent in full (the "
        "server says)"
    ),
    "faster_than_clips": (
        "answered sooner than both clips last: after the question was shown (the browser "
        "says), or after the previous answer or the start (the server says)"
    ),
    "repeat_attempts": "a second or later participant started from the same browser",
}


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One answer, with just what the statistics and the exclusion rules need.

    ``item_id`` names what the random item effect is about: the question (pair of clips), whose
    generated sample is what fools listeners or not. ``heard_fully`` is true when both clips
    were played to the end. ``response_ms`` is what the survey stores (from both clips heard to
    the answer) and is only carried for plots. The faster-than-clips rule needs a different
    time, ``elapsed_ms``: from the question being shown to the answer, compared with the two
    clips' durations; when either is unknown the rule cannot judge the answer and counts it as
    undetermined (never excluded). ``attempt`` is 1 for the first participant started in a
    browser, 2 for the next, ...

    The browser's word is not taken alone (a script can send anything): ``served`` is the
    smaller share of the two clips' bytes the server had sent before the answer, and
    ``server_elapsed_ms`` the server's time from the previous answer (or the start) to this one;
    None where the server did not record them (answers stored before it did). ``bach_side``
    is where Bach was, for the position-bias table. ``batch``, ``checkpoint``, ``temperature``
    and ``search`` (the decoding method of a piece found by search, not sampled) are the
    generated sample's provenance, for the breakdowns.
    """

    participant_id: str
    question_id: str
    item_id: str
    category: str
    experience: str
    correct: bool
    response_ms: int
    heard_fully: bool
    clip_durations_ms: tuple[int, int] | None = None
    elapsed_ms: int | None = None
    attempt: int = 1
    created_at: datetime | None = None
    served: float | None = None
    server_elapsed_ms: int | None = None
    bach_side: str | None = None
    batch: str | None = None
    checkpoint: str = ""
    temperature: float | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class Exclusions:
    """Which exclusion rules are on. All off by default: excluding is a choice to be stated."""

    not_heard_fully: bool = False
    faster_than_clips: bool = False
    repeat_attempts: bool = False


def _rule_matches(record: AnswerRecord) -> dict[str, bool | None]:
    """Whether each rule applies to ``record``; None when the record cannot tell.

    Browser and server each have a say: a record is not heard fully when either says so, and
    too fast when either clock is shorter than the two clips.
    """
    clocks = [t for t in (record.elapsed_ms, record.server_elapsed_ms) if t is not None]
    if not clocks or record.clip_durations_ms is None:
        too_fast: bool | None = None
    else:
        too_fast = min(clocks) < sum(record.clip_durations_ms)
    sent_in_full = record.served is None or record.served >= 1.0
    return {
        "not_heard_fully": not (record.heard_fully and sent_in_full),
        "faster_than_clips": too_fast,
        "repeat_attempts": record.attempt > 1,
    }


def _interval(pair: tuple[float, float]) -> list[float]:
    return [float(pair[0]), float(pair[1])]


def d_prime(n: int, correct: int) -> float | None:
    """Sensitivity of a two-alternative forced choice: d′ = √2 · Φ⁻¹(p).

    Φ⁻¹(0) and Φ⁻¹(1) are infinite, so a proportion of 0 or 1 is replaced by 1/(2n) or
    1 − 1/(2n) (the standard correction, Macmillan & Kaplan 1985; Stanislaw & Todorov 1999) —
    an expert cell where every answer is right gets a large finite d′, not infinity. None for
    n = 0.
    """
    if n <= 0:
        return None
    p = correct / n
    if correct == 0:
        p = 1 / (2 * n)
    elif correct == n:
        p = 1 - 1 / (2 * n)
    return float(math.sqrt(2) * norm.ppf(p))


def cell(n: int, correct: int, *, category: str = ALL, experience: str = ALL) -> dict[str, Any]:
    """The figures for one table cell, in the shape of issue 8's CELL.

    ``p_value`` is the exact one-sided binomial test against 0.5 (H1: listeners pick Bach more
    often than chance). With n = 0 every figure but the counts is None: an empty cell has no
    accuracy, and 0 or 0.5 would be a lie.
    """
    if not 0 <= correct <= n:
        raise ValueError(f"need 0 <= correct <= n, got correct={correct}, n={n}")
    out: dict[str, Any] = {
        "category": category,
        "experience": experience,
        "n": int(n),
        "correct": int(correct),
        "accuracy": None,
        "wilson": None,
        "clopper_pearson": None,
        "p_value": None,
        "d_prime": None,
    }
    if n == 0:
        return out
    out.update(
        accuracy=correct / n,
        wilson=_interval(proportion_confint(correct, n, alpha=ALPHA, method="wilson")),
        clopper_pearson=_interval(proportion_confint(correct, n, alpha=ALPHA, method="beta")),
        p_value=float(binomtest(correct, n, 0.5, alternative="greater").pvalue),
        d_prime=d_prime(n, correct),
    )
    return out


def _validate(record: AnswerRecord) -> None:
    if record.category not in CATEGORIES:
        raise ValueError(f"unknown category {record.category!r} in {record}")
    if record.experience not in EXPERIENCES:
        raise ValueError(f"unknown experience {record.experience!r} in {record}")


def apply_exclusions(
    records: Iterable[AnswerRecord], exclusions: Exclusions | None = None
) -> tuple[list[AnswerRecord], dict[str, dict[str, Any]]]:
    """The records kept under ``exclusions``, and the report of every rule.

    Each rule's ``excluded`` counts the answers it matches among all answers given, whether
    it is on (they were excluded) or off (they would be): the counts do not depend on which
    other rules are on, so an answer matched by two rules is counted under both.
    ``faster_than_clips`` also reports how many answers it could not judge (``undetermined``).
    """
    exclusions = exclusions or Exclusions()
    switched = {name: bool(getattr(exclusions, name)) for name in EXCLUSION_RULES}
    matched: Counter[str] = Counter()
    undetermined: Counter[str] = Counter()
    kept = []
    for record in records:
        _validate(record)
        drop = False
        for name, match in _rule_matches(record).items():
            if match is None:
                undetermined[name] += 1
            elif match:
                matched[name] += 1
                drop = drop or switched[name]
        if not drop:
            kept.append(record)
    report: dict[str, dict[str, Any]] = {}
    for name, description in EXCLUSION_RULES.items():
        report[name] = {"on": switched[name], "excluded": matched[name], "rule": description}
    report["faster_than_clips"]["undetermined"] = undetermined["faster_than_clips"]
    return kept, report


def _cells(records: list[AnswerRecord]) -> list[dict[str, Any]]:
    """Every category (and all) × every experience band (and all), in a fixed order."""
    n: Counter[tuple[str, str]] = Counter()
    k: Counter[tuple[str, str]] = Counter()
    for record in records:
        for category in (record.category, ALL):
            for experience in (record.experience, ALL):
                n[category, experience] += 1
                k[category, experience] += bool(record.correct)
    return [
        cell(n[c, e], k[c, e], category=c, experience=e)
        for c in (*CATEGORIES, ALL)
        for e in (*EXPERIENCES, ALL)
    ]


def _items(records: list[AnswerRecord]) -> list[dict[str, Any]]:
    """Per item: how often listeners found Bach, i.e. how often its generated sample fooled them.

    Ordered by category, then item id, so that the table is stable between requests.
    """
    groups: dict[str, list[AnswerRecord]] = defaultdict(list)
    for record in records:
        groups[record.item_id].append(record)
    out = []
    for item_id, answers in groups.items():
        categories = {a.category for a in answers}
        if len(categories) != 1:
            raise ValueError(f"item {item_id!r} appears under categories {sorted(categories)}")
        figures = cell(len(answers), sum(bool(a.correct) for a in answers))
        out.append(
            {
                "item_id": item_id,
                "category": answers[0].category,
                "questions": sorted({a.question_id for a in answers}),
                "n": figures["n"],
                "correct": figures["correct"],
                "fooled": figures["n"] - figures["correct"],
                "accuracy": figures["accuracy"],
                "wilson": figures["wilson"],
            }
        )
    out.sort(key=lambda item: (CATEGORIES.index(item["category"]), item["item_id"]))
    return out


def position_bias(records: list[AnswerRecord]) -> dict[str, dict[str, Any]]:
    """Accuracy with Bach on side A and on side B: a listener's preference for one side (or a
    flaw that shows Bach's side) would part the two."""
    out = {}
    for side in ("A", "B"):
        on_side = [r for r in records if r.bach_side == side]
        out[side] = cell(len(on_side), sum(bool(r.correct) for r in on_side))
    return out


def summarize(
    records: Iterable[AnswerRecord],
    exclusions: Exclusions | None = None,
    *,
    fit_model: bool = True,
) -> dict[str, Any]:
    """Everything the dashboard and ``GET /api/results/summary/`` show, as JSON-ready values.

    Shape: ``{"overall": CELL, "cells": [CELL x 40], "items": [...], "model": {...},
    "exclusions": {...}, "position": {"A": CELL, "B": CELL}, "n": {"answers_given", "answers",
    "participants", "items"}}`` (``position``: with Bach on that side);
    ``overall`` is a copy of the (all, all) cell, on its own because it is the headline.
    ``fit_model=False`` skips the mixed model (its dict then has status "skipped") for callers
    that only need the tables.
    """
    given = list(records)
    kept, report = apply_exclusions(given, exclusions)
    cells = _cells(kept)
    participants = {r.participant_id for r in kept}
    if fit_model:
        model = fit_mixed_model(
            [r.participant_id for r in kept],
            [r.item_id for r in kept],
            [bool(r.correct) for r in kept],
        )
    else:
        model = unfitted("skipped", "The mixed model was not requested.")
    return {
        "overall": dict(next(c for c in cells if c["category"] == ALL and c["experience"] == ALL)),
        "cells": cells,
        "items": _items(kept),
        "model": model,
        "exclusions": report,
        "position": position_bias(kept),
        "n": {
            "answers_given": len(given),
            "answers": len(kept),
            "participants": len(participants),
            "items": len({r.item_id for r in kept}),
        },
    }


# BachBot 2016 ("BachBot Challenge", SPEC §7): proportion choosing the real Bach, by experience
# (rows) and category (columns). 721 participants, 3,605 answers. Caveats for the comparison:
# questions were drawn with replacement, free compositions were paired with longer Bach chorales,
# nothing forced a clip to be heard, and an analysis bug dropped every answer where the generated
# clip came first — so these proportions are not from the same design as ours.
BACHBOT_2016: dict[str, Any] = {
    "source": "BachBot Challenge, bachbot.com, 2016 (Liang et al.)",
    "participants": 721,
    "answers": 3605,
    "categories": list(CATEGORIES),
    "experiences": [ALL, *EXPERIENCES],
    "accuracy": {
        ALL: {"S": 0.76, "A": 0.61, "T": 0.64, "B": 0.49, "AT": 0.73, "ATB": 0.67, "SATB": 0.59},
        "novice": {
            "S": 0.67,
            "A": 0.56,
            "T": 0.58,
            "B": 0.43,
            "AT": 0.63,
            "ATB": 0.62,
            "SATB": 0.51,
        },
        "intermediate": {
            "S": 0.75,
            "A": 0.59,
            "T": 0.65,
            "B": 0.52,
            "AT": 0.73,
            "ATB": 0.67,
            "SATB": 0.58,
        },
        "advanced": {
            "S": 0.82,
            "A": 0.69,
            "T": 0.65,
            "B": 0.54,
            "AT": 0.79,
            "ATB": 0.66,
            "SATB": 0.65,
        },
        "expert": {
            "S": 1.00,
            "A": 0.70,
            "T": 0.77,
            "B": 0.38,
            "AT": 0.94,
            "ATB": 0.83,
            "SATB": 0.76,
        },
    },
    "caveats": [
        "questions drawn with replacement",
        "free compositions paired with systematically longer Bach chorales",
        "nothing forced a clip to be heard",
        "an analysis bug dropped every answer where the generated clip came first",
    ],
}
