"""Machine vs people: a batch's machine judge (stored when the batch is done, and by
`judge_batch`), shown beside the listeners on the batch's review pages and per category on the
researchers' dashboard.

The real batch is five greedy soprano re-harmonizations of one-bar windows (the fewest pairs the
judge takes), run in this process with the shipped harmonizer; everything else uses hand-made
rows and verdicts.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from bachsurvey.generation import batch_judge, batches, jobs
from bachsurvey.models import Answer, Assignment, Batch, Chorale, Participant, Question
from bachsurvey.research import machine
from tests.bachsurvey.research.data import Seeded, clopper_pearson, expected_cell

pytestmark = pytest.mark.django_db

VERDICT_KEYS = {"accuracy", "interval", "n", "right", "judge", "judges", "tells", "pairs"}
ATB_81 = {"accuracy": 0.8143, "interval": [0.7016, 0.8976], "n": 70, "right": 57, "pairs": 35,
          "tells": ["more S large leaps than Bach", "fewer B rests than Bach"]}  # fmt: skip


def batch_of(status: str = Batch.Status.DONE, voices: str = "ATB", **fields: Any) -> Batch:
    mode = "free" if voices == "SATB" else "harmonize"
    values = {"name": f"b{random.random()}", "mode": mode, "voices": voices, "count": 5}
    return Batch.objects.create(**{**values, "status": status, **fields})


@pytest.fixture
def batch_question(make_question: Callable[..., Question]) -> Callable[..., Question]:
    """A question whose generated side is piece ``index`` of ``batch`` (stand-in notes)."""

    def make(batch: Batch, index: int = 0) -> Question:
        question = make_question(batch.voices, live=False)
        chorale = question.clip_generated.chorale
        chorale.batch, chorale.index = batch, index
        chorale.save()
        return question

    return make


def answer(question: Question, correct: bool, withdrawn: bool = False) -> None:
    when = datetime(2026, 3, 2, tzinfo=UTC)
    participant = Participant.objects.create(
        consented_at=when, experience="novice", withdrawn_at=when if withdrawn else None
    )
    assignment = Assignment.objects.create(
        participant=participant, question=question, position=0, bach_side="A"
    )
    Answer.objects.create(
        assignment=assignment, choice="A" if correct else "B", correct=correct,
        response_ms=3000, plays={"A": 1, "B": 1}, heard_fully={"A": True, "B": True},
    )  # fmt: skip


def judge_command(*args: str) -> list[dict]:
    out = StringIO()
    call_command("judge_batch", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


# --- a real batch --------------------------------------------------------------------------------


def test_a_done_batch_carries_its_judge_into_the_summary(media_root: Path) -> None:
    batch = jobs.prepare(
        Batch(mode="harmonize", voices="S", count=5, method="greedy", frames=16, seed=5)
    )
    batch.save()  # not queued: run here, as the task would
    batch = batches.run_batch(batch.pk)
    assert batch is not None and batch.status == Batch.Status.DONE, batch and batch.error
    verdict = batch.judge
    assert set(verdict) == VERDICT_KEYS and verdict["pairs"] == 5
    assert verdict["n"] == 10 and verdict["right"] == round(verdict["accuracy"] * 10)
    low, high = verdict["interval"]
    assert 0 <= low <= verdict["accuracy"] <= high <= 1
    assert len(verdict["tells"]) == 5 and all(t.endswith(" than Bach") for t in verdict["tells"])
    assert batches.summary(batch)["judge"] == verdict == Batch.objects.get(pk=batch.pk).judge
    # Each piece records how it was decoded, the voice-leading rules included.
    for chorale in Chorale.objects.filter(batch=batch):
        assert chorale.decoding["method"] == "greedy"
        assert chorale.decoding["rules"]["parallel_fifths"] == "forbidden"
    # Judging again gives the same verdict: the folds are seeded by the batch.
    assert judge_command(str(batch.pk)) == [{"batch": batch.pk, "judge": verdict}]


# --- too few pairs, failures, the command ------------------------------------------------------


def test_fewer_than_five_pairs_give_the_reason(batch_question: Callable[..., Question]) -> None:
    batch = batch_of(voices="SATB")
    for index in range(3):
        batch_question(batch, index)
    verdict = batch_judge.store(batch)
    assert verdict == {"accuracy": None, "n": 6, "pairs": 3, "reason": batch_judge.TOO_FEW}
    assert Batch.objects.get(pk=batch.pk).judge == verdict
    assert batches.summary(batch)["judge"] == verdict
    assert verdict["reason"] == "fewer than 5 pairs: too few to judge"


def test_a_judge_that_fails_leaves_a_reason(batch_question: Callable[..., Question]) -> None:
    batch = batch_of(voices="S")
    for index in range(5):
        batch_question(batch, index)  # stand-in notes: "START END", no frames to judge
    verdict = batch_judge.judge(batch)
    assert verdict["accuracy"] is None and (verdict["n"], verdict["pairs"]) == (10, 5)
    assert verdict["reason"].startswith("the judge failed: ")


def test_judge_batch_judges_done_batches_only(batch_question: Callable[..., Question]) -> None:
    done, running = batch_of(), batch_of(Batch.Status.RUNNING)
    batch_question(done)
    with pytest.raises(CommandError, match=f"batch {running.pk} is running"):
        call_command("judge_batch", str(done.pk), str(running.pk), stdout=StringIO())
    assert Batch.objects.get(pk=done.pk).judge["pairs"] == 1
    assert Batch.objects.get(pk=running.pk).judge is None
    assert [line["batch"] for line in judge_command("--all")] == [done.pk]


# --- the admin: machine vs people on a batch ------------------------------------------------------


def test_the_review_and_batch_pages_show_judge_and_listeners(
    admin_client: Client, batch_question: Callable[..., Question]
) -> None:
    batch = batch_of(judge=ATB_81)
    first, second = batch_question(batch, 0), batch_question(batch, 1)
    for question, correct in ((first, True), (first, True), (second, True), (second, False)):
        answer(question, correct)
    answer(second, False, withdrawn=True)  # a withdrawn participant's answer never counts
    answer(batch_question(batch_of(), 0), False)  # another batch's question
    low, high = clopper_pearson(3, 4)
    listeners = f"75% (95% {low:.2f}–{high:.2f}, n 4 answers) on this batch's questions"
    review = admin_client.get(f"/admin/bachsurvey/question/{first.pk}/review/")
    change = admin_client.get(f"/admin/bachsurvey/batch/{batch.pk}/change/")
    for page in (review.content.decode(), change.content.decode()):
        assert "81% (95% 0.70–0.90, n 70) on this batch's pairs" in page
        assert listeners in page
        assert "<li>more S large leaps than Bach</li>" in page


def test_the_pages_say_when_there_is_no_verdict_or_answer(
    admin_client: Client, batch_question: Callable[..., Question]
) -> None:
    unjudged, few = batch_of(), batch_of(judge={"accuracy": None, "n": 4, "pairs": 2,
                                                "reason": batch_judge.TOO_FEW})  # fmt: skip
    page = admin_client.get(f"/admin/bachsurvey/batch/{unjudged.pk}/change/").content.decode()
    assert f"python manage.py judge_batch {unjudged.pk}" in page
    assert "no answers yet on this batch" in page
    question = batch_question(few)
    page = admin_client.get(f"/admin/bachsurvey/question/{question.pk}/review/").content.decode()
    assert "2 pairs: fewer than 5 pairs: too few to judge" in page


# --- the dashboard: machine vs people per category ------------------------------------------------


def test_the_judge_is_pooled_per_category() -> None:
    judged = [
        ("ATB", ATB_81),
        ("ATB", {"accuracy": 0.5, "interval": [0.3, 0.7], "n": 40, "right": 20}),
        ("ATB", {"accuracy": None, "n": 6, "pairs": 3, "reason": batch_judge.TOO_FEW}),
        ("ATB", None),  # a batch done before the judge existed
        ("S", {"accuracy": 0.9, "interval": [0.6, 1.0], "n": 10, "right": 9}),
    ]
    pooled = machine.pooled(judged)
    assert list(pooled) == ["S", "A", "T", "B", "AT", "ATB", "SATB"]
    atb = pooled["ATB"]
    assert (atb["right"], atb["n"], atb["batches"]) == (77, 110, 2) and atb["accuracy"] == 0.7
    assert atb["interval"] == pytest.approx(clopper_pearson(77, 110))
    assert pooled["S"]["interval"] == pytest.approx(clopper_pearson(9, 10))
    assert pooled["SATB"] == {"n": 0, "right": 0, "accuracy": None, "interval": None,
                              "batches": 0}  # fmt: skip


def test_the_dashboard_sets_the_judge_beside_the_listeners(
    seeded: Seeded, client: Client, researcher: Any, batch_question: Callable[..., Question]
) -> None:
    judges = [ATB_81, {"accuracy": 0.5, "interval": [0.3, 0.7], "n": 40, "right": 20}]
    for judge in judges:
        batch_question(batch_of(judge=judge))
    batch_question(batch_of(Batch.Status.FAILED, judge=ATB_81))  # not done: left out
    batch_of(judge=ATB_81)  # no questions: left out
    client.force_login(researcher)
    html = client.get("/research/").content.decode()
    row = html[html.index('id="machine-ATB"') :].split("</tr>")[0]
    low, high = clopper_pearson(77, 110)
    assert f'70.0% <span class="n">(95% {low:.2f}–{high:.2f}, n 110, 2 batches)' in row
    people = expected_cell([a for a in seeded.answers if a["category"] == "ATB"])
    low, high = people["clopper_pearson"]
    figures = f"(95% {low:.2f}–{high:.2f}, n {people['n']})"
    assert f'{100 * people["accuracy"]:.1f}% <span class="n">{figures}' in row
    satb = html[html.index('id="machine-SATB"') :].split("</tr>")[0]
    assert '<td class="judge">—</td>' in satb
