"""The reveal after an answer names Bach's chorale; nothing of it shows before the answer."""

from typing import Any

import pytest

from bachsurvey.models import Chorale

pytestmark = pytest.mark.django_db


def test_it_names_the_chorale_only_once_answered(quiz: list, quiz_client: Any) -> None:
    Chorale.objects.filter(kind="real").update(title="Herr Christ, der ein’ge Gott’ssohn")
    data = quiz_client.started()
    first = data["questions"][0]
    before = quiz_client.progress(data["id"]).json()
    assert all(q["answer"] is None for q in before["questions"])
    assert "Herr Christ" not in str(before) and "chorale" not in str(before)

    answered = quiz_client.answer(data["id"], first["id"]).json()
    real = Chorale.objects.get(
        kind="real", clips__in=[q.clip_real for q in quiz if str(q.pk) == first["id"]]
    )
    assert real.source.startswith("bwv")
    assert answered["chorale"] == {
        "bwv": real.source.removeprefix("bwv"),
        "title": "Herr Christ, der ein’ge Gott’ssohn",
    }
    after = quiz_client.progress(data["id"]).json()["questions"]
    assert after[0]["answer"]["chorale"] == answered["chorale"]
    # The questions still to come say nothing more than before.
    assert after[1:] == before["questions"][1:]


def test_a_source_without_a_bwv_number_is_named_by_nothing(make_question: Any, quiz_client) -> None:
    for number, category in enumerate(["S", "AT", "ATB", "SATB", "SATB"]):
        make_question(category, source=f"local-{number}")
    data = quiz_client.started()
    answered = quiz_client.answer(data["id"], data["questions"][0]["id"]).json()
    assert answered["chorale"] == {"bwv": "", "title": ""}
