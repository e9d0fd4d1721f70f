"""Accuracy by batch, checkpoint and temperature, against a count made here from the seeded
answers' own questions (closed-form Wilson intervals, not bachsurvey.research.stats)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from django.test import Client

from bachsurvey.research import records
from bachsurvey.research.breakdowns import breakdown, breakdowns, temperature_label
from bachsurvey.research.stats import AnswerRecord
from tests.bachsurvey.research.data import Seeded, kept, wilson

pytestmark = pytest.mark.django_db


def provenance(answer: dict[str, Any], factor: str) -> str:
    chorale = answer["question"].clip_generated.chorale
    return {
        "batch": chorale.batch.name,
        "checkpoint": chorale.checkpoint,
        "temperature": f"{chorale.temperature:g}",
    }[factor]


def expected(answers: list[dict[str, Any]], factor: str) -> dict[str, tuple[int, int]]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for answer in answers:
        groups[provenance(answer, factor)].append(answer["correct"])
    return {group: (len(c), sum(c)) for group, c in groups.items()}


@pytest.mark.parametrize("factor", ["batch", "checkpoint", "temperature"])
def test_each_group_matches_an_independent_count(seeded: Seeded, factor: str) -> None:
    groups = breakdown(records.answer_records(), factor)
    want = expected(seeded.answers, factor)
    assert {g["group"]: (g["n"], g["correct"]) for g in groups} == want
    for g in groups:
        assert g["wilson"] == pytest.approx(wilson(g["correct"], g["n"]), abs=1e-9)
    if factor == "checkpoint":
        assert len(groups) == 3  # data.py spreads the questions over three checkpoints


def test_temperatures_are_in_numeric_order(seeded: Seeded) -> None:
    labels = [g["group"] for g in breakdown(records.answer_records(), "temperature")]
    assert [float(t) for t in labels] == sorted(float(t) for t in labels)


def test_a_searched_piece_is_grouped_by_its_search() -> None:
    def record(**provenance: Any) -> AnswerRecord:
        return AnswerRecord("p", "q", "q", "S", "novice", True, 900, True, **provenance)

    assert temperature_label(record(temperature=0.8)) == "0.8"
    assert temperature_label(record(search="beam")) == "beam search"
    assert temperature_label(record()) == "not recorded"
    rows = breakdowns([record(temperature=1.0), record(search="greedy"), record(batch="b1")])
    assert [r["factor"] for r in rows] == ["batch", "checkpoint", "temperature"]
    assert [g["group"] for g in rows[2]["groups"]] == ["1", "greedy search", "not recorded"]
    with pytest.raises(ValueError, match="unknown breakdown 'seed'"):
        breakdown([], "seed")


def test_the_dashboard_shows_the_breakdowns_of_the_answers_kept(
    seeded: Seeded, client: Client, researcher
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    html = client.get("/research/", {"exclude_not_heard_fully": "true"}).content.decode()
    remaining = kept(seeded.answers, not_heard_fully=True)
    for factor in ("batch", "checkpoint", "temperature"):
        assert f'id="breakdown-{factor}"' in html
    for group, (n, _) in expected(remaining, "checkpoint").items():
        assert f"<code>{group}</code></th><td>{n}</td>" in html
