"""The admin's side of generation: batches with progress and retry, review, approval."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from bachsurvey.models import Batch, GridRun, Question
from bachsurvey.quiz import services

pytestmark = pytest.mark.django_db

STYLE = {
    "out_of_range": {"value": 0.01, "bach_mean": 0.005, "bach_p10": 0.0, "bach_p90": 0.01},
    "parallel_fifths": {"value": 3.1, "bach_mean": 0.4, "bach_p10": 0.0, "bach_p90": 1.2},
}


def generated_batch(status: str = Batch.Status.DONE, **fields: Any) -> Batch:
    values = {"name": f"b{random.random()}", "mode": "free", "voices": "SATB", "count": 4}
    return Batch.objects.create(**{**values, "status": status, **fields})


@pytest.fixture
def draft(make_question: Callable[..., Question]) -> Callable[..., Question]:
    """A draft question whose generated side is piece `index` of `batch`."""

    def make(batch: Batch, index: int = 0, category: str = "SATB") -> Question:
        question = make_question(category, live=False)
        chorale = question.clip_generated.chorale
        chorale.batch, chorale.index, chorale.style = batch, index, STYLE
        chorale.save()
        return question

    return make


def review_url(question: Question) -> str:
    return f"/admin/bachsurvey/question/{question.pk}/review/"


def test_it_lists_batches_with_their_progress(admin_client: Client) -> None:
    generated_batch(Batch.Status.RUNNING, done=3, rejected=5, name="night run")
    generated_batch(Batch.Status.FAILED, error="GenerationError: checkpoint x not found")
    Batch.objects.create(name="demo abc", status=Batch.Status.DONE)
    page = admin_client.get("/admin/bachsurvey/batch/").content.decode()
    assert "night run" in page and "3 / 4" in page and ">5<" in page
    assert "checkpoint x not found" in page and "fixture" in page


def test_it_starts_a_batch_from_the_admin(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    form = {"mode": "free", "voices": "", "count": 8, "temperature": 0.9, "seed": 3,
            "checkpoint": "", "method": "beam", "beam_width": 5, "frames": 64}  # fmt: skip
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post("/admin/bachsurvey/batch/add/", form)
    assert response.status_code == 302
    batch = Batch.objects.get()
    assert (batch.status, batch.voices, batch.count) == ("pending", "SATB", 8)
    assert batch.checkpoint == settings.GENERATION_CHECKPOINT and batch.name.startswith("free ×8")
    assert len(queued) == 1  # generate_batch, sent once the admin's transaction committed


def test_it_refuses_a_harmonization_without_voices(admin_client: Client) -> None:
    form = {"mode": "harmonize", "voices": "", "count": 2, "temperature": 0.8, "seed": 0,
            "checkpoint": "", "method": "beam", "beam_width": 5, "frames": 64}  # fmt: skip
    response = admin_client.post("/admin/bachsurvey/batch/add/", form)
    assert response.status_code == 200 and not Batch.objects.exists()
    assert "S, A, T, B, AT or ATB for a harmonization" in response.content.decode()


def test_it_retries_failed_batches_only(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    failed = generated_batch(Batch.Status.FAILED, error="boom")
    done = generated_batch(Batch.Status.DONE)
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            "/admin/bachsurvey/batch/",
            {"action": "retry", "_selected_action": [failed.pk, done.pk]},
            follow=True,
        )
    assert "only a failed, cancelled or stale batch can be retried" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.error) == ("pending", "")
    assert Batch.objects.get(pk=done.pk).status == "done"
    assert len(queued) == 1


def test_a_batch_page_shows_its_parameters_and_progress(admin_client: Client) -> None:
    batch = generated_batch(Batch.Status.RUNNING, stage="sampling pass 1 of 1", device="cuda")
    page = admin_client.get(f"/admin/bachsurvey/batch/{batch.pk}/change/").content.decode()
    assert "sampling pass 1 of 1" in page and "cuda" in page


def test_the_review_page_plays_both_clips_with_scores_and_style(
    admin_client: Client, draft: Callable[..., Question]
) -> None:
    question = draft(generated_batch())
    page = admin_client.get(review_url(question)).content.decode()
    for clip in (question.clip_real, question.clip_generated):
        assert f'<audio controls preload="metadata" src="{clip.audio.url}">' in page
        assert f'<img src="{clip.score.url}"' in page
    assert "parallel fifths" in page and "3.100" in page and "0.400" in page
    assert 'value="approve"' in page and 'value="reject"' in page


def test_approving_puts_the_question_live_and_moves_on(
    admin_client: Client, draft: Callable[..., Question]
) -> None:
    batch = generated_batch()
    first, second = draft(batch, 0), draft(batch, 1)
    response = admin_client.post(review_url(first), {"decision": "approve"})
    assert response["Location"] == review_url(second)  # the next draft of the batch
    first.refresh_from_db()
    assert (first.status, first.live) == ("approved", True)
    admin_client.post(review_url(second), {"decision": "reject"})
    second.refresh_from_db()
    assert (second.status, second.live) == ("rejected", False)


def test_nothing_of_an_unfinished_batch_is_approved_or_served(
    admin_client: Client, draft: Callable[..., Question], quiz: list[Question]
) -> None:
    question = draft(generated_batch(Batch.Status.FAILED, error="boom"))
    assert "not done" in admin_client.get(review_url(question)).content.decode()
    admin_client.post(review_url(question), {"decision": "approve"})
    admin_client.post(
        "/admin/bachsurvey/question/",
        {"action": "approve_and_go_live", "_selected_action": [str(question.pk)]},
    )
    question.refresh_from_db()
    assert (question.status, question.live) == ("draft", False)
    # Even marked live by hand, it is never served while its batch is not done.
    Question.objects.filter(pk=question.pk).update(status="approved", live=True)
    rng = random.Random(0)
    drawn = {q.pk for _ in range(50) for q in services.draw_questions(rng)}
    assert question.pk not in drawn and len(drawn) > 5


def test_the_question_list_filters_by_batch(
    admin_client: Client, draft: Callable[..., Question]
) -> None:
    batch, other = generated_batch(), generated_batch()
    mine, theirs = draft(batch), draft(other)
    page = admin_client.get(f"/admin/bachsurvey/question/?batch={batch.pk}").content.decode()
    assert review_url(mine) in page and review_url(theirs) not in page


def test_the_grid_search_is_one_table(admin_client: Client) -> None:
    for index, (hidden, loss) in enumerate([(128, 0.61), (256, 0.52)]):
        GridRun.objects.create(
            grid="g1", index=index, settings={"hidden_size": hidden}, status="done",
            best_validation_loss=loss, best_epoch=3, epochs_run=4, seconds=12.5,
        )  # fmt: skip
    page = admin_client.get("/admin/bachsurvey/gridrun/?grid=g1").content.decode()
    assert page.index("hidden_size=256") < page.index("hidden_size=128")  # best first
    assert "0.52" in page and "12.5" in page
