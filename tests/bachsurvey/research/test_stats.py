"""bachsurvey.research.stats: every figure against an independent computation.

The module gets its intervals from statsmodels and its test from scipy.stats.binomtest; these
tests recompute them another way (closed-form Wilson, beta quantiles, binomial tail sums, pandas
group-bys), so a wrong argument (alpha, alternative, method) cannot pass on both sides. No
database is needed.
"""

from __future__ import annotations

import itertools
import json
import math
import random

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from scipy.stats import beta, binom, norm

from bachsurvey.research import stats_model
from bachsurvey.research.stats import (
    ALL,
    BACHBOT_2016,
    CATEGORIES,
    EXPERIENCES,
    AnswerRecord,
    Exclusions,
    cell,
    d_prime,
    summarize,
)

CELL_KEYS = {
    "category",
    "experience",
    "n",
    "correct",
    "accuracy",
    "wilson",
    "clopper_pearson",
    "p_value",
    "d_prime",
}
GRID = [(n, k) for n in (1, 2, 5, 10, 37, 874) for k in sorted({0, 1, n // 3, n // 2, n - 1, n})]


def record(participant: int | str, item: int | str, correct: bool, **fields) -> AnswerRecord:
    values = {
        "category": "SATB",
        "experience": "novice",
        "response_ms": 1500,
        "heard_fully": True,
    } | fields
    return AnswerRecord(
        participant_id=str(participant),
        question_id=f"q{item}",
        item_id=f"q{item}",
        correct=correct,
        **values,
    )


# Independent formulas, written out here on purpose: the module must not use them.
def wilson_closed_form(n: int, k: int, z: float = float(norm.ppf(0.975))) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def clopper_pearson_quantiles(n: int, k: int) -> tuple[float, float]:
    lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return lo, hi


def d_prime_direct(n: int, k: int) -> float:
    p = min(max(k / n, 1 / (2 * n)), 1 - 1 / (2 * n))
    return math.sqrt(2) * norm.ppf(p)


# --- single cells ----------------------------------------------------------------------------


def test_worked_example_wilson_516_of_874():
    figures = cell(874, 516)
    assert [round(x, 3) for x in figures["wilson"]] == [0.557, 0.623]
    assert round(figures["accuracy"], 2) == 0.59


def test_59_percent_is_d_prime_032():
    assert round(d_prime(100, 59), 2) == 0.32
    assert round(cell(874, 516)["d_prime"], 2) == 0.32


def test_issue_example_cell():
    figures = cell(10, 6, category="SATB", experience="novice")
    assert set(figures) == CELL_KEYS
    assert figures["category"] == "SATB" and figures["experience"] == "novice"
    assert (figures["n"], figures["correct"], figures["accuracy"]) == (10, 6, 0.6)
    assert round(figures["p_value"], 2) == 0.38
    assert round(figures["d_prime"], 2) == 0.36


@pytest.mark.parametrize(("n", "k"), GRID)
def test_intervals_and_test_against_direct_computations(n: int, k: int):
    figures = cell(n, k)
    assert figures["wilson"] == pytest.approx(wilson_closed_form(n, k), abs=1e-9)
    assert figures["clopper_pearson"] == pytest.approx(clopper_pearson_quantiles(n, k), abs=1e-9)
    # P(X >= k) under Binomial(n, 0.5): the exact one-sided tail.
    assert figures["p_value"] == pytest.approx(binom.sf(k - 1, n, 0.5), rel=1e-9, abs=1e-15)
    assert figures["d_prime"] == pytest.approx(d_prime_direct(n, k), abs=1e-9)
    assert math.isfinite(figures["d_prime"])


def test_d_prime_edges_use_the_half_count_correction():
    assert d_prime(0, 0) is None
    assert d_prime(8, 8) == pytest.approx(math.sqrt(2) * norm.ppf(1 - 1 / 16))
    assert d_prime(8, 0) == pytest.approx(-d_prime(8, 8))
    assert d_prime(2, 1) == 0.0


def test_empty_cell_has_counts_and_nothing_else():
    assert cell(0, 0) == {
        "category": ALL,
        "experience": ALL,
        "n": 0,
        "correct": 0,
        "accuracy": None,
        "wilson": None,
        "clopper_pearson": None,
        "p_value": None,
        "d_prime": None,
    }


@pytest.mark.parametrize(("n", "k"), [(3, 4), (3, -1)])
def test_impossible_counts_are_refused(n: int, k: int):
    with pytest.raises(ValueError):
        cell(n, k)


# --- summaries of seeded synthetic answers ---------------------------------------------------


def synthetic(seed: int, participants: int = 400) -> list[AnswerRecord]:
    """Five answers each, accuracy varying by category and experience; no expert ever gets a B
    question, so one whole column of cells is empty."""
    rng = random.Random(seed)
    out = []
    for p in range(participants):
        experience = rng.choice(EXPERIENCES)
        for _ in range(5):
            category = rng.choice(CATEGORIES)
            if experience == "expert" and category == "B":
                category = "SATB"
            chance = (
                0.5 + 0.05 * CATEGORIES.index(category) / 2 + 0.04 * EXPERIENCES.index(experience)
            )
            item = f"{category}-{rng.randrange(6)}"
            out.append(
                AnswerRecord(
                    participant_id=f"p{p}",
                    question_id=item,
                    item_id=item,
                    category=category,
                    experience=experience,
                    correct=rng.random() < chance,
                    response_ms=rng.randrange(200, 9000),
                    heard_fully=rng.random() < 0.9,
                    attempt=1 + (rng.random() < 0.05),
                )
            )
    return out


def expected_cells(records: list[AnswerRecord]) -> dict[tuple[str, str], tuple[int, int]]:
    """(n, correct) per cell by pandas group-bys, margins included."""
    frame = pd.DataFrame(
        {
            "category": [r.category for r in records],
            "experience": [r.experience for r in records],
            "correct": [int(r.correct) for r in records],
        }
    )
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for keys, by in (
        (("category", "experience"), ["category", "experience"]),
        (("category", ALL), ["category"]),
        ((ALL, "experience"), ["experience"]),
    ):
        for group, rows in frame.groupby(by):
            values = dict(zip(by, group, strict=True))
            key = tuple(values.get(k, ALL) for k in keys)
            out[key] = (len(rows), int(rows["correct"].sum()))
    out[ALL, ALL] = (len(frame), int(frame["correct"].sum()))
    return out


def check_cell(figures: dict, n: int, k: int) -> None:
    assert set(figures) == CELL_KEYS
    assert (figures["n"], figures["correct"]) == (n, k)
    if n == 0:
        assert figures["accuracy"] is None and figures["wilson"] is None
        return
    assert figures["accuracy"] == pytest.approx(k / n)
    assert figures["wilson"] == pytest.approx(wilson_closed_form(n, k), abs=1e-9)
    assert figures["clopper_pearson"] == pytest.approx(clopper_pearson_quantiles(n, k), abs=1e-9)
    assert figures["p_value"] == pytest.approx(binom.sf(k - 1, n, 0.5), rel=1e-9, abs=1e-15)
    assert figures["d_prime"] == pytest.approx(d_prime_direct(n, k), abs=1e-9)


def test_every_cell_matches_an_independent_computation():
    records = synthetic(seed=8)
    summary = summarize(records, fit_model=False)
    expected = expected_cells(records)

    order = [(c, e) for c in (*CATEGORIES, ALL) for e in (*EXPERIENCES, ALL)]
    assert [(c["category"], c["experience"]) for c in summary["cells"]] == order
    for figures in summary["cells"]:
        n, k = expected.get((figures["category"], figures["experience"]), (0, 0))
        check_cell(figures, n, k)
    assert summary["cells"][order.index(("B", "expert"))]["n"] == 0
    check_cell(summary["overall"], *expected[ALL, ALL])
    assert summary["overall"]["category"] == ALL and summary["overall"]["experience"] == ALL
    assert summary["n"] == {
        "answers_given": len(records),
        "answers": len(records),
        "participants": 400,
        "items": len({r.item_id for r in records}),
    }
    assert summary["model"]["status"] == "skipped"


def test_items_match_an_independent_computation():
    records = synthetic(seed=9, participants=150)
    items = summarize(records, fit_model=False)["items"]
    frame = pd.DataFrame(
        {"item": [r.item_id for r in records], "correct": [int(r.correct) for r in records]}
    )
    expected = frame.groupby("item")["correct"].agg(["count", "sum"])
    assert sorted(i["item_id"] for i in items) == sorted(expected.index)
    assert [CATEGORIES.index(i["category"]) for i in items] == sorted(
        CATEGORIES.index(i["category"]) for i in items
    )
    for item in items:
        n, k = (int(x) for x in expected.loc[item["item_id"]])
        assert item["category"] == item["item_id"].split("-")[0]
        assert (item["n"], item["correct"], item["fooled"]) == (n, k, n - k)
        assert item["accuracy"] == pytest.approx(k / n)
        assert item["wilson"] == pytest.approx(wilson_closed_form(n, k), abs=1e-9)
        assert item["questions"] == [item["item_id"]]


def test_summary_is_json_ready():
    summary = summarize(synthetic(seed=10, participants=60))
    assert summary["model"]["status"] == "ok"
    json.dumps(summary, allow_nan=False)  # plain floats, no numpy scalars, no NaN
    assert set(summary) == {"overall", "cells", "items", "model", "exclusions", "position", "n"}


def test_an_item_under_two_categories_is_refused():
    records = [record(1, "x", True, category="S"), record(2, "x", True, category="A")]
    with pytest.raises(ValueError, match="categories"):
        summarize(records, fit_model=False)


@pytest.mark.parametrize(("field", "value"), [("category", "SAT"), ("experience", "")])
def test_unknown_category_or_experience_is_refused(field: str, value: str):
    with pytest.raises(ValueError, match="unknown"):
        summarize([record(1, 1, True, **{field: value})], fit_model=False)


# --- SPEC §7: BachBot's published table, recomputed ------------------------------------------

# Participants per experience band, and how each band's single-voice questions split over
# S, A, T, B, chosen (by a search) so that every band's cells AND the "all" row of SPEC §7 come
# out at the published two-decimal proportions with correct = round(p * n), none of them a tie.
# Each participant answers one single-voice, one AT, one ATB and two SATB questions, as in
# BachBot's design: 721 participants and 3,605 answers, as published.
BAND_PARTICIPANTS = {"novice": 211, "intermediate": 330, "advanced": 126, "expert": 54}
SINGLE_VOICE_SPLIT = {
    "novice": (55, 55, 55, 46),
    "intermediate": (81, 81, 84, 84),
    "advanced": (34, 32, 34, 26),
    "expert": (10, 10, 13, 21),
}


def bachbot_answers() -> list[AnswerRecord]:
    table = BACHBOT_2016["accuracy"]
    out: list[AnswerRecord] = []
    serial = itertools.count()
    for band, people in BAND_PARTICIPANTS.items():
        ids = [f"{band}-{i}" for i in range(people)]
        # Who answers which category: single voices by the split, everybody AT, ATB, SATB x2.
        single = []
        for category, size in zip("SATB", SINGLE_VOICE_SPLIT[band], strict=True):
            single += [category] * size
        assert len(single) == people
        plan = {
            "S": [p for p, c in zip(ids, single, strict=True) if c == "S"],
            "A": [p for p, c in zip(ids, single, strict=True) if c == "A"],
            "T": [p for p, c in zip(ids, single, strict=True) if c == "T"],
            "B": [p for p, c in zip(ids, single, strict=True) if c == "B"],
            "AT": ids,
            "ATB": ids,
            "SATB": ids + ids,
        }
        for category, answerers in plan.items():
            right = round(table[band][category] * len(answerers))
            for i, participant in enumerate(answerers):
                item = f"{category}-{next(serial) % 7}"
                out.append(
                    AnswerRecord(
                        participant_id=participant,
                        question_id=item,
                        item_id=item,
                        category=category,
                        experience=band,
                        correct=i < right,
                        response_ms=2000,
                        heard_fully=True,
                    )
                )
    return out


def test_spec_results_table_recomputed_from_synthetic_answers():
    answers = bachbot_answers()
    summary = summarize(answers, fit_model=False)
    assert summary["n"]["answers"] == BACHBOT_2016["answers"] == 3605
    assert summary["n"]["participants"] == BACHBOT_2016["participants"] == 721
    figures = {(c["category"], c["experience"]): c for c in summary["cells"]}
    for experience, row in BACHBOT_2016["accuracy"].items():
        for category, published in row.items():
            accuracy = figures[category, experience]["accuracy"]
            # Strictly inside the rounding interval: no half-way ties.
            assert abs(accuracy - published) < 0.005, (category, experience, accuracy)


def test_bachbot_table_is_complete():
    assert set(BACHBOT_2016["accuracy"]) == {ALL, *EXPERIENCES}
    for row in BACHBOT_2016["accuracy"].values():
        assert list(row) == list(CATEGORIES)
        assert all(0 <= p <= 1 for p in row.values())


# --- exclusions ------------------------------------------------------------------------------


def flagged_answers() -> list[AnswerRecord]:
    """20 answers with known flags: 0–3 not heard, 2–5 too fast, 5–7 a second attempt, 8–9
    with no timing (undetermined); the rest clean."""
    out = []
    for i in range(20):
        timing = {"clip_durations_ms": (20_000, 25_000), "elapsed_ms": 60_000}
        if 2 <= i <= 5:
            timing["elapsed_ms"] = 44_999
        if i in (8, 9):
            timing = {"clip_durations_ms": (20_000, 25_000), "elapsed_ms": None}
        out.append(
            record(
                f"p{i}",
                i % 4,
                i % 3 == 0,
                heard_fully=i > 3,
                attempt=2 if 5 <= i <= 7 else 1,
                **timing,
            )
        )
    return out


RULE_ROWS = {
    "not_heard_fully": {0, 1, 2, 3},
    "faster_than_clips": {2, 3, 4, 5},
    "repeat_attempts": {5, 6, 7},
}


@pytest.mark.parametrize("switches", list(itertools.product([False, True], repeat=3)))
def test_exclusions_switch_and_always_report_counts(switches: tuple[bool, bool, bool]):
    options = Exclusions(*switches)
    answers = flagged_answers()
    summary = summarize(answers, options, fit_model=False)

    dropped: set[int] = set()
    for (name, rows), on in zip(RULE_ROWS.items(), switches, strict=True):
        report = summary["exclusions"][name]
        assert report["on"] is on
        assert report["excluded"] == len(rows)  # matched, whether on or off
        if on:
            dropped |= rows
    assert summary["exclusions"]["faster_than_clips"]["undetermined"] == 2
    kept = [a for i, a in enumerate(answers) if i not in dropped]
    assert summary["n"]["answers_given"] == 20
    assert summary["n"]["answers"] == summary["overall"]["n"] == 20 - len(dropped)
    assert summary["overall"]["correct"] == sum(a.correct for a in kept)


def test_the_server_has_its_own_say_in_both_rules():
    """A script can claim both clips were heard and timed: the server's record outvotes it."""
    timing = {"clip_durations_ms": (20_000, 25_000), "elapsed_ms": 60_000}
    answers = [
        record("honest", 0, True, served=1.0, server_elapsed_ms=61_000, **timing),
        record("partial", 1, True, served=0.4, server_elapsed_ms=61_000, **timing),
        record("hasty", 2, True, served=1.0, server_elapsed_ms=3_000, **timing),
        record("unrecorded", 3, True, served=None, server_elapsed_ms=None, **timing),
    ]
    summary = summarize(
        answers, Exclusions(not_heard_fully=True, faster_than_clips=True), fit_model=False
    )
    assert summary["exclusions"]["not_heard_fully"]["excluded"] == 1  # "partial"
    assert summary["exclusions"]["faster_than_clips"]["excluded"] == 1  # "hasty"
    assert summary["n"]["answers"] == 2  # "honest", and "unrecorded" on the browser's word
    server_only = record("s", 4, True, elapsed_ms=None, server_elapsed_ms=1_000, **{
        k: v for k, v in timing.items() if k != "elapsed_ms"})  # fmt: skip
    report = summarize([server_only], fit_model=False)["exclusions"]["faster_than_clips"]
    assert (report["excluded"], report["undetermined"]) == (1, 0)


def test_position_bias_is_reported_per_side():
    answers = [record(i, i, i % 4 != 0, bach_side="A") for i in range(40)]  # 30 of 40
    answers += [record(100 + i, i, i % 2 == 0, bach_side="B") for i in range(20)]  # 10 of 20
    position = summarize(answers, fit_model=False)["position"]
    assert (position["A"]["n"], position["A"]["correct"]) == (40, 30)
    assert (position["B"]["n"], position["B"]["correct"]) == (20, 10)
    assert position["A"]["wilson"] == cell(40, 30)["wilson"]


def test_exclusions_are_off_by_default():
    summary = summarize(flagged_answers(), fit_model=False)
    assert not any(rule["on"] for rule in summary["exclusions"].values())
    assert summary["overall"]["n"] == 20
    assert summary == summarize(flagged_answers(), Exclusions(), fit_model=False)


# --- the mixed model -------------------------------------------------------------------------


def simulate(seed: int, accuracy: float, participants: int, items: int, per: int = 5):
    rng = np.random.default_rng(seed)
    u = rng.normal(0, 0.5, participants)
    v = rng.normal(0, 0.3, items)
    who = np.repeat(np.arange(participants), per)
    what = rng.integers(0, items, len(who))
    y = rng.random(len(who)) < expit(logit(accuracy) + u[who] + v[what])
    return [f"p{i}" for i in who], [f"i{j}" for j in what], y.tolist()


def test_mixed_model_recovers_a_known_accuracy():
    fit = stats_model.fit_mixed_model(*simulate(seed=4, accuracy=0.6, participants=300, items=100))
    assert fit["status"] == "ok", fit["note"]
    assert (fit["n"], fit["participants"], fit["items"]) == (1500, 300, 100)
    estimate = fit["accuracy"]["estimate"]
    lo, hi = fit["accuracy"]["interval"]
    assert abs(estimate - 0.6) < 0.05
    assert lo < 0.6 < hi and lo < estimate < hi
    assert fit["accuracy"]["estimate"] == pytest.approx(expit(fit["intercept"]["estimate"]))
    # Integrating over listeners and items pulls the accuracy towards 0.5.
    assert 0.5 < fit["accuracy_marginal"]["estimate"] < estimate
    # The Laplace SD with the random effects integrated out is wider than mean-field VB's.
    assert fit["intercept"]["sd"] > fit["intercept"]["sd_vb"]
    assert fit["p_value"] < 1e-3
    assert set(fit["variance_components"]) == {"participant", "item"}
    for component in fit["variance_components"].values():
        assert component["sd_interval"][0] < component["sd"] < component["sd_interval"][1]


def test_mixed_model_at_chance_is_not_significant():
    fit = stats_model.fit_mixed_model(*simulate(seed=5, accuracy=0.5, participants=120, items=30))
    assert fit["status"] == "ok"
    assert fit["accuracy"]["interval"][0] < 0.5 < fit["accuracy"]["interval"][1]
    assert fit["p_value"] > 0.01


def test_mixed_model_is_deterministic():
    data = simulate(seed=6, accuracy=0.65, participants=40, items=12)
    assert stats_model.fit_mixed_model(*data) == stats_model.fit_mixed_model(*data)


@pytest.mark.parametrize(
    "data",
    [
        ([], [], []),
        (["p"], ["i"], [True]),
        (simulate(7, 0.6, participants=5, items=10)),  # too few participants
        ([f"p{i}" for i in range(40)], ["only"] * 40, [i % 2 == 0 for i in range(40)]),
        ([f"p{i}" for i in range(40)], [f"i{i % 5}" for i in range(40)], [True] * 40),
    ],
    ids=["empty", "one", "few-participants", "one-item", "all-correct"],
)
def test_mixed_model_says_when_there_is_not_enough_data(data):
    fit = stats_model.fit_mixed_model(*data)
    assert fit["status"] == "not_enough_data"
    assert fit["note"].startswith("No answers") or "Not enough data" in fit["note"]
    assert fit["accuracy"] is None and fit["intercept"] is None
    json.dumps(fit, allow_nan=False)


def test_mixed_model_reports_non_convergence(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(stats_model, "MAX_ITERATIONS", 1)
    fit = stats_model.fit_mixed_model(*simulate(seed=8, accuracy=0.6, participants=40, items=10))
    assert fit["status"] == "not_converged"
    assert "did not converge" in fit["note"] and fit["accuracy"] is None


def test_mixed_model_reports_failure(monkeypatch: pytest.MonkeyPatch):
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(stats_model.BinomialBayesMixedGLM, "fit_vb", broken)
    fit = stats_model.fit_mixed_model(*simulate(seed=9, accuracy=0.6, participants=40, items=10))
    assert fit["status"] == "failed" and "singular matrix" in fit["note"]


def test_summary_of_nothing():
    summary = summarize([])
    assert summary["overall"]["n"] == 0 and summary["overall"]["accuracy"] is None
    assert len(summary["cells"]) == 40 and all(c["n"] == 0 for c in summary["cells"])
    assert summary["items"] == []
    assert summary["model"]["status"] == "not_enough_data"
    assert all(rule["excluded"] == 0 for rule in summary["exclusions"].values())


def test_summary_fits_the_model_on_the_kept_answers():
    answers = [
        record(p, item, correct, attempt=2 if int(p[1:]) < 10 else 1)
        for p, item, correct in zip(*simulate(3, 0.6, participants=60, items=15), strict=True)
    ]
    summary = summarize(answers, Exclusions(repeat_attempts=True))
    assert summary["model"]["status"] == "ok"
    assert summary["model"]["n"] == summary["overall"]["n"] == 300 - 50
    assert summary["model"]["participants"] == summary["n"]["participants"] == 50
