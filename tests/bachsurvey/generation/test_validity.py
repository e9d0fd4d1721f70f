"""One question per audio file and per Bach excerpt (issue 16, rule 2): approval refuses, naming
the other question, anything that would put a second live question on either, whether from the
admin's bulk action, its review page or `manage.py approve_batch`."""

from __future__ import annotations

import random
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from bachsurvey.generation import review, validity
from bachsurvey.models import Assignment, Batch, Clip, Participant, Question

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch() -> Batch:
    return Batch.objects.create(name=f"night {random.random()}", mode="free", voices="SATB",
                                count=4, status=Batch.Status.DONE)  # fmt: skip


@pytest.fixture
def draft(make_question: Callable[..., Question], batch: Batch) -> Callable[..., Question]:
    """A draft question of ``batch`` whose Bach side is frames ``start..end`` of ``source``."""
    counter = iter(range(1000))

    def make(source: str | None = None, start: int = 0, end: int = 32) -> Question:
        question = make_question("SATB", source=source, frames=96, live=False)
        chorale = question.clip_generated.chorale
        chorale.batch, chorale.index = batch, next(counter)
        chorale.save()
        Clip.objects.filter(pk=question.clip_real_id).update(frame_start=start, frame_end=end)
        return Question.objects.get(pk=question.pk)

    return make


def live(question: Question) -> bool:
    return Question.objects.get(pk=question.pk).live


def test_an_overlapping_bach_excerpt_is_refused_and_named(draft: Any) -> None:
    first = draft("bwv9001.1", 0, 32)
    assert review.approve(Question.objects.filter(pk=first.pk)).approved == 1
    overlapping, apart, elsewhere = draft("bwv9001.1", 16, 48), draft("bwv9001.1", 32, 64), draft()
    approval = review.approve(
        Question.objects.filter(pk__in=[overlapping.pk, apart.pk, elsewhere.pk])
    )
    assert approval.approved == 2 and not live(overlapping) and live(apart) and live(elsewhere)
    (message,) = approval.messages()
    assert str(overlapping.pk) in message and str(first.pk) in message
    assert "bwv9001.1 frames 16-48" in message and "bwv9001.1 frames 0-32" in message


def test_the_same_audio_under_another_name_is_refused(draft: Any, media_root: Path) -> None:
    first, second = draft(), draft()
    review.approve(Question.objects.filter(pk=first.pk))
    clip = second.clip_generated  # its file, byte for byte the live question's Bach clip
    (media_root / clip.audio.name).write_bytes(
        (media_root / first.clip_real.audio.name).read_bytes()
    )
    Clip.objects.filter(pk=clip.pk).update(audio_sha256=first.clip_real.audio_sha256)
    approval = review.approve(Question.objects.filter(pk=second.pk))
    assert approval.approved == 0 and "an audio file" in approval.messages()[0]
    assert str(first.pk) in approval.messages()[0]


def test_two_drafts_approved_together_cannot_share_bach(draft: Any) -> None:
    a, b = draft("bwv9002.1", 0, 32), draft("bwv9002.1", 0, 32)
    approval = review.approve(Question.objects.filter(pk__in=[a.pk, b.pk]))
    assert approval.approved == 1 and live(a) != live(b)


def test_the_admin_says_what_it_refused(admin_client: Client, draft: Any) -> None:
    first = draft("bwv9003.1")
    review.approve(Question.objects.filter(pk=first.pk))
    clash = draft("bwv9003.1")
    response = admin_client.post(
        "/admin/bachsurvey/question/",
        {"action": "approve_and_go_live", "_selected_action": [str(clash.pk)]},
        follow=True,
    )
    page = response.content.decode()
    assert "0 approved and live" in page and f"live question {first.pk}" in page
    page = admin_client.post(f"/admin/bachsurvey/question/{clash.pk}/review/",
                             {"decision": "approve"}, follow=True).content.decode()  # fmt: skip
    assert "Nothing changed" in page and str(first.pk) in page and not live(clash)


def test_approve_batch_approves_the_drafts_and_names_what_it_refuses(
    draft: Any, batch: Batch
) -> None:
    first, clash, fine = draft("bwv9004.1", 0, 32), draft("bwv9004.1", 8, 40), draft()
    out = StringIO()
    with pytest.raises(CommandError, match="1 refused"):
        call_command("approve_batch", str(batch.pk), stdout=out)
    text = out.getvalue()
    assert "2 of 3 drafts approved" in text and f"question {clash.pk}" in text
    assert live(first) and live(fine) and not live(clash)
    Question.objects.filter(pk=first.pk).update(status="rejected", live=False)
    out = StringIO()
    call_command("approve_batch", batch.name, stdout=out)  # by name: the clash is free now
    assert "1 of 1 drafts approved" in out.getvalue() and live(clash)


def test_approve_batch_refuses_an_unfinished_or_unknown_batch(batch: Batch) -> None:
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING)
    with pytest.raises(CommandError, match="running"):
        call_command("approve_batch", str(batch.pk))
    with pytest.raises(CommandError, match="no batch"):
        call_command("approve_batch", "no such batch")


def test_held_excerpts_are_what_a_new_batch_must_avoid(draft: Any) -> None:
    draft("bwv9005.1")
    rejected, served = draft("bwv9006.1"), draft("bwv9007.1")
    review.reject(Question.objects.filter(pk__in=[rejected.pk, served.pk]))
    held = {e.source for e in validity.held_excerpts()}
    assert "bwv9005.1" in held and "bwv9006.1" not in held and "bwv9007.1" not in held
    # A question that was ever served holds its excerpt even once rejected: answers told
    # people which clip was Bach.
    participant = Participant.objects.create(consented_at=timezone.now())
    Assignment.objects.create(participant=participant, question=served, position=0, bach_side="A")
    assert "bwv9007.1" in {e.source for e in validity.held_excerpts()}


@pytest.mark.parametrize("count", [1, 2, 5, 16, 64, 101])
def test_a_batch_stores_bach_first_for_exactly_half_its_pieces(count: int) -> None:
    from bachsurvey.generation.pieces import bach_first

    for seed in (0, 7):
        firsts = [bach_first(seed, count, index) for index in range(count)]
        assert sum(firsts) == count // 2
    assert [bach_first(0, 64, i) for i in range(64)] != [bach_first(7, 64, i) for i in range(64)]
