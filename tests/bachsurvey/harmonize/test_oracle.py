"""The harmonizer is no oracle for the quiz: a melody that shares eight notes in a row (in any
key) with any voice of either clip of a live question is refused, naming no chorale."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from bachsurvey.harmonize import oracle
from bachsurvey.models import Harmonization, Question
from tests.bachsurvey.harmonize.helpers import LINE, music, post, question, text_of

pytestmark = pytest.mark.django_db
OTHER = [60, 64, 67, 72, 67, 64, 60, 62]  # a broken chord: shares no run with LINE


def refused(client: Client, melody: str) -> bool:
    response = post(client, melody, method="greedy")
    assert response.status_code in (202, 400), response.content
    if response.status_code == 202:
        return False
    assert response.json()["code"] == "quiz_melody", response.content
    return True


def test_the_soprano_of_a_live_harmonization_question_is_refused_in_any_key(
    client: Client, media_root: Path
) -> None:
    live = question(media_root, music({0: LINE}), music({0: LINE, 1: OTHER}))
    response = post(client, text_of(LINE, shift=2), method="greedy")  # a tone higher
    assert response.status_code == 400 and response.json()["code"] == "quiz_melody"
    detail = response.json()["detail"]
    assert "listening test" in detail and live.clip_real.chorale.source not in detail
    assert refused(client, text_of(LINE[1:], shift=-3))  # eight of its notes, a third lower
    assert not Harmonization.objects.exists()


def test_seven_notes_or_a_changed_note_pass(client: Client, media_root: Path) -> None:
    question(media_root, music({0: LINE}), music({0: LINE}))
    assert not refused(client, text_of(LINE[:7]))
    changed = [*LINE[:4], LINE[4] + 1, *LINE[5:]]
    assert not refused(client, text_of(changed))


def test_every_voice_of_both_clips_of_a_free_pair_is_guarded(
    client: Client, media_root: Path
) -> None:
    """A cheater hears the Bach clip and the network's free piece: any line of either, in any
    voice, could be fed to the page and compared."""
    question(media_root, music({2: LINE}), music({1: [m - 12 for m in OTHER]}), "SATB")
    assert refused(client, text_of(LINE, shift=5))  # Bach's tenor, as a soprano
    assert refused(client, text_of(OTHER, shift=7))  # the network's alto


def test_lines_outside_the_live_clips_are_free(client: Client, media_root: Path) -> None:
    hidden = question(media_root, music({0: LINE}), music({0: LINE}), live=False)
    assert not refused(client, text_of(LINE))
    # A live clip of frames 40..64 plays only the line's last six notes.
    question(
        media_root, music({0: OTHER[:7] + LINE}), music({0: OTHER[:7] + LINE}), frames=(40, 64)
    )
    assert not refused(client, text_of(LINE))
    Question.objects.filter(pk=hidden.pk).update(status="approved", live=True)
    assert refused(client, text_of(LINE))  # the guard follows the live set at once


def test_the_lines_are_built_once_per_live_set(media_root: Path, django_assert_max_num_queries):
    question(media_root, music({0: LINE}), music({0: LINE}))
    oracle.quiz_runs()
    with django_assert_max_num_queries(1):  # the live set alone; the lines are kept
        assert oracle.quiz_runs()
