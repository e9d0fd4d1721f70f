"""The results API: every figure against an independent computation on seeded answers.

``data.seed_answers`` stores synthetic participants and answers through the ORM and
keeps the facts of each answer; the expected figures are recomputed from those facts with
closed-form Wilson intervals, beta quantiles and binomial tails, never through
bachsurvey.research.stats.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml
from django.test import Client
from rest_framework.test import APIClient

from bachsurvey.research import exports, plots, records
from bachsurvey.research.serializers import AnswerRowOutput
from bachsurvey.research.stats import summarize
from tests.bachsurvey.research.data import (
    CATEGORIES,
    EXPERIENCES,
    Seeded,
    expected_cell,
    in_cell,
    kept,
    wilson,
)

RULES = ["not_heard_fully", "faster_than_clips", "repeat_attempts"]


def summary(api: APIClient, **rules: bool) -> dict[str, Any]:
    query = {f"exclude_{name}": "true" for name, on in rules.items() if on}
    response = api.get("/api/results/summary/", query)
    assert response.status_code == 200, response.content
    return response.json()


def assert_cell(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["n"] == expected["n"] and actual["correct"] == expected["correct"]
    if expected["n"] == 0:
        assert actual["accuracy"] is actual["wilson"] is actual["p_value"] is None
        return
    assert actual["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-12)
    assert actual["wilson"] == pytest.approx(expected["wilson"], abs=1e-9)
    assert actual["clopper_pearson"] == pytest.approx(expected["clopper_pearson"], abs=1e-9)
    assert actual["p_value"] == pytest.approx(expected["p_value"], rel=1e-9, abs=1e-15)
    assert actual["d_prime"] == pytest.approx(expected["d_prime"], abs=1e-9)


def test_every_cell_matches_an_independent_computation(seeded: Seeded, api: APIClient) -> None:
    data = summary(api)
    answers = seeded.answers
    cells = {(c["category"], c["experience"]): c for c in data["cells"]}
    assert len(cells) == len(data["cells"]) == 8 * 5
    for category, experience in itertools.product([*CATEGORIES, "all"], [*EXPERIENCES, "all"]):
        expected = expected_cell([a for a in answers if in_cell(a, category, experience)])
        assert_cell(cells[category, experience], expected)
    assert_cell(data["overall"], expected_cell(answers))
    assert data["overall"] == cells["all", "all"]


def test_it_counts_answers_participants_and_items(seeded: Seeded, api: APIClient) -> None:
    data = summary(api)
    answers = seeded.answers
    assert seeded.withdrawn_answers > 0  # the withdrawn participant's leftovers exist…
    assert data["n"] == {  # …and count nowhere
        "answers_given": len(answers),
        "answers": len(answers),
        "participants": len({a["participant_id"] for a in answers}),
        "items": len({a["question_id"] for a in answers}),
    }


def test_it_reports_accuracy_with_bach_on_each_side(seeded: Seeded, api: APIClient) -> None:
    position = summary(api)["position"]
    for side in ("A", "B"):
        on_side = [a for a in seeded.answers if a["bach_side"] == side]
        assert position[side]["n"] == len(on_side) > 0
        assert position[side]["correct"] == sum(a["correct"] for a in on_side)


@pytest.mark.parametrize(
    "rules",
    [{}, *({name: True} for name in RULES), dict.fromkeys(RULES, True)],
    ids=["none", *RULES, "all"],
)
def test_exclusions_are_counted_and_applied(
    seeded: Seeded, api: APIClient, rules: dict[str, bool]
) -> None:
    data = summary(api, **rules)
    answers = seeded.answers
    report = data["exclusions"]
    assert report["not_heard_fully"]["excluded"] == sum(not a["heard_fully"] for a in answers)
    assert report["faster_than_clips"]["excluded"] == sum(a["faster"] is True for a in answers)
    assert report["faster_than_clips"]["undetermined"] == sum(a["faster"] is None for a in answers)
    assert report["repeat_attempts"]["excluded"] == sum(a["attempt"] > 1 for a in answers)
    for name in RULES:
        assert report[name]["on"] is rules.get(name, False)
        assert report[name]["excluded"] > 0  # the seed exercises every rule
    remaining = kept(answers, **rules)
    assert data["n"]["answers_given"] == len(answers)
    assert data["n"]["answers"] == len(remaining)
    assert_cell(data["overall"], expected_cell(remaining))
    novice_satb = [a for a in remaining if in_cell(a, "SATB", "novice")]
    cell = next(c for c in data["cells"] if (c["category"], c["experience"]) == ("SATB", "novice"))
    assert_cell(cell, expected_cell(novice_satb))


def test_per_item_figures_and_provenance(seeded: Seeded, api: APIClient) -> None:
    response = api.get("/api/results/items/")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert len(items) == len({a["question_id"] for a in seeded.answers})
    for item in items:
        mine = [a for a in seeded.answers if a["question_id"] == item["item_id"]]
        k = sum(a["correct"] for a in mine)
        question = seeded.by_question[item["item_id"]]
        generated = question.clip_generated.chorale
        assert (item["n"], item["correct"], item["fooled"]) == (len(mine), k, len(mine) - k)
        assert item["accuracy"] == pytest.approx(k / len(mine))
        assert item["wilson"] == pytest.approx(wilson(k, len(mine)), abs=1e-9)
        assert item["category"] == question.category
        assert item["questions"] == [item["item_id"]]
        assert item["checkpoint"] == generated.checkpoint
        assert item["temperature"] == pytest.approx(generated.temperature)
        assert item["seed"] == generated.seed
        assert item["mask"] == question.category
        assert item["batch"] == seeded.batch.name
        assert item["real_source"] == question.clip_real.chorale.source
    order = [CATEGORIES.index(item["category"]) for item in items]
    assert order == sorted(order)


def test_items_follow_the_exclusions(seeded: Seeded, api: APIClient) -> None:
    items = api.get("/api/results/items/", {"exclude_not_heard_fully": "true"}).json()["items"]
    remaining = kept(seeded.answers, not_heard_fully=True)
    assert sum(item["n"] for item in items) == len(remaining)
    assert sum(item["fooled"] for item in items) == sum(not a["correct"] for a in remaining)


def test_the_mixed_model_is_fitted_on_the_answers_kept(seeded: Seeded, api: APIClient) -> None:
    model = summary(api)["model"]
    answers = seeded.answers
    assert model["status"] == "ok", model["note"]
    assert model["n"] == len(answers)
    assert model["participants"] == len({a["participant_id"] for a in answers})
    assert model["items"] == len({a["question_id"] for a in answers})
    low, high = model["accuracy"]["interval"]
    assert 0 < low < model["accuracy"]["estimate"] < high < 1
    # Same records, same seed: the API shows what summarize() computes from the database rows.
    direct = summarize(records.answer_records())["model"]
    assert model["intercept"]["estimate"] == pytest.approx(direct["intercept"]["estimate"])


def test_records_map_the_stored_answers(seeded: Seeded) -> None:
    stored = {r.question_id + r.participant_id: r for r in records.answer_records()}
    assert len(stored) == len(seeded.answers)
    for fact in seeded.answers:
        record = stored[fact["question_id"] + fact["participant_id"]]
        question = fact["question"]
        assert record.item_id == record.question_id == fact["question_id"]
        assert (record.category, record.experience) == (fact["category"], fact["experience"])
        assert record.correct is fact["correct"] and record.heard_fully is fact["heard_fully"]
        assert record.attempt == fact["attempt"]
        assert record.elapsed_ms == fact["answer"].elapsed_ms
        assert record.response_ms == fact["answer"].response_ms
        assert record.clip_durations_ms == (
            round(question.clip_real.duration_s * 1000),
            round(question.clip_generated.duration_s * 1000),
        )
        assert record.created_at is not None and record.created_at.day == 2 + fact["day"]


def test_a_bad_exclusion_option_is_refused(seeded: Seeded, api: APIClient) -> None:
    response = api.get("/api/results/summary/", {"exclude_not_heard_fully": "maybe"})
    assert response.status_code == 400
    assert "exclude_not_heard_fully" in response.json()


def test_no_answers_gives_empty_figures(db: None, api: APIClient) -> None:
    data = summary(api)
    assert data["overall"]["n"] == 0 and data["overall"]["accuracy"] is None
    assert data["model"]["status"] == "not_enough_data"
    assert api.get("/api/results/items/").json()["items"] == []


def test_the_schema_describes_the_results_api(client: Client) -> None:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    paths = {
        "/api/results/summary/",
        "/api/results/items/",
        "/api/results/answers.csv",
        "/api/results/answers.json",
    }
    assert paths <= set(schema["paths"])
    for path in paths:
        assert {"tokenAuth": []} in schema["paths"][path]["get"]["security"]
    summary_params = {
        p["name"] for p in schema["paths"]["/api/results/summary/"]["get"]["parameters"]
    }
    assert summary_params == {f"exclude_{name}" for name in RULES} | {"date_from", "date_to"}
    assert (
        "text/csv"
        in schema["paths"]["/api/results/answers.csv"]["get"]["responses"]["200"]["content"]
    )
    assert list(schema["components"]["schemas"]["AnswerRowOutput"]["properties"]) == list(
        exports.COLUMNS
    )
    assert list(AnswerRowOutput().fields) == list(exports.COLUMNS)


def test_the_dashboard_shows_the_figures(seeded: Seeded, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    response = client.get("/research/")
    assert response.status_code == 200
    html = response.content.decode()
    overall = expected_cell(seeded.answers)
    assert f"{100 * overall['accuracy']:.1f}%" in html
    low, high = overall["wilson"]
    assert f"{100 * low:.1f}–{100 * high:.1f}%" in html
    participants = len({a["participant_id"] for a in seeded.answers})
    assert f'id="headline-participants">{participants}<' in html
    assert f'id="headline-answers">{len(seeded.answers)}' in html
    # Each plot twice: wide, and narrow for phones (CSS shows one).
    assert html.count("<svg") == 8 and html.count('role="img"') == 8
    assert 'id="bachbot"' in html and "0.76" in html  # BachBot 2016, S, all
    faster = sum(a["faster"] is True for a in seeded.answers)
    assert f'id="count-faster_than_clips">{faster}<' in html
    assert "/api/results/answers.csv" in html and "/api/results/answers.json" in html


def test_the_dashboard_applies_the_toggles(seeded: Seeded, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    html = client.get("/research/", {"exclude_repeat_attempts": "true"}).content.decode()
    remaining = kept(seeded.answers, repeat_attempts=True)
    assert f"Showing {len(remaining)} of {len(seeded.answers)} answers." in html
    assert 'name="exclude_repeat_attempts" value="true" checked' in html
    assert client.get("/research/", {"exclude_repeat_attempts": "x"}).status_code == 400


def test_the_dashboard_renders_with_no_answers(db: None, client: Client, researcher) -> None:  # type: ignore[no-untyped-def]
    client.force_login(researcher)
    html = client.get("/research/").content.decode()
    assert html.count("<svg") == 8 and "No answers yet" in html


def test_plots_are_svg_with_distinct_ids_and_png(seeded: Seeded) -> None:
    result, kept_records = records.summary(fit_model=False)
    drawn = plots.dashboard_plots(result, kept_records)
    ids: list[str] = []
    for plot in drawn:
        for drawing in (plot["svg"], plot["svg_narrow"]):
            assert drawing.startswith('<svg role="img" aria-label=')
            ids += [chunk.split('"')[0] for chunk in drawing.split(' id="')[1:]]
    assert len(ids) == len(set(ids))  # eight SVGs inline in one page must not share an id
    image = plots.png(plots.accuracy_by_category(result["cells"]))
    assert image.startswith(b"\x89PNG")
