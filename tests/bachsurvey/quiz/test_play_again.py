"""Play again: a new attempt from the same browser after a finished quiz, without withdrawing."""

import random
from typing import Any

import pytest

from bachsurvey.models import Answer, Category, Participant
from bachsurvey.quiz import services, sql
from bachsurvey.research import exports, records
from bachsurvey.research.stats import Exclusions, apply_exclusions

pytestmark = pytest.mark.django_db

SLOTS = ["S", "AT", "ATB", "SATB", "SATB"]


@pytest.fixture
def two_quizzes(make_question: Any) -> list:
    """Enough live questions for two quizzes with nothing in common."""
    return [make_question(category) for _ in range(2) for category in SLOTS]


def finish(quiz_client: Any, data: dict) -> None:
    for question in data["questions"]:
        assert quiz_client.answer(data["id"], question["id"]).status_code == 201


def again(quiz_client: Any, participant_id: str) -> Any:
    return quiz_client.client.post(f"/api/participants/{participant_id}/again/")


def test_it_starts_a_second_attempt_and_keeps_the_first(
    two_quizzes: list, quiz_client: Any
) -> None:
    first = quiz_client.started(age_group="46-60", experience="expert")
    finish(quiz_client, first)
    response = again(quiz_client, first["id"])
    assert response.status_code == 201, response.content
    second = response.json()
    assert len(second["questions"]) == 5
    new = Participant.objects.get(pk=second["id"])
    old = Participant.objects.get(pk=first["id"])
    assert (new.attempt, old.attempt) == (2, 1)
    # The background and consent carry over: the form is not asked again.
    assert (new.age_group, new.experience) == ("46-60", "expert")
    assert new.consented_at == old.consented_at and new.finished_at is None
    # The first attempt's answers stay, its participant is no longer this browser's.
    assert Answer.objects.filter(assignment__participant=old).count() == 5
    assert quiz_client.progress(first["id"]).status_code == 404
    assert quiz_client.progress(second["id"]).json()["status"] == "in_progress"


def test_it_draws_questions_not_heard_before(two_quizzes: list, quiz_client: Any) -> None:
    first = quiz_client.started()
    finish(quiz_client, first)
    second = again(quiz_client, first["id"]).json()
    finish(quiz_client, second)
    heard = {q["id"] for q in first["questions"]}
    assert heard.isdisjoint(q["id"] for q in second["questions"])
    # A third attempt: the pool is spent, so questions repeat rather than fail.
    third = again(quiz_client, second["id"])
    assert third.status_code == 201
    assert Participant.objects.get(pk=third.json()["id"]).attempt == 3


def test_the_statistics_read_the_attempt_the_quiz_wrote(
    two_quizzes: list, quiz_client: Any
) -> None:
    first = quiz_client.started()
    finish(quiz_client, first)
    second = again(quiz_client, first["id"]).json()
    finish(quiz_client, second)
    answer_records = records.answer_records()
    attempts = {(r.participant_id, r.attempt) for r in answer_records}
    assert attempts == {(first["id"], 1), (second["id"], 2)}
    kept, report = apply_exclusions(answer_records, Exclusions(repeat_attempts=True))
    assert report["repeat_attempts"]["excluded"] == 5
    assert {r.participant_id for r in kept} == {first["id"]}
    assert sorted({row["attempt"] for row in exports.export_rows()}) == [1, 2]


def test_it_refuses_to_play_again_before_the_end(two_quizzes: list, quiz_client: Any) -> None:
    first = quiz_client.started()
    response = again(quiz_client, first["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "not_finished"
    assert Participant.objects.count() == 1


def test_it_refuses_another_browser(two_quizzes: list, quiz_client: Any, new_quiz_client) -> None:
    first = quiz_client.started()
    finish(quiz_client, first)
    assert again(new_quiz_client(), first["id"]).status_code == 404
    assert Participant.objects.count() == 1


def test_withdrawing_deletes_every_attempt_of_the_browser(
    two_quizzes: list, quiz_client: Any
) -> None:
    first = quiz_client.started()
    finish(quiz_client, first)
    second = again(quiz_client, first["id"]).json()
    quiz_client.answer(second["id"], second["questions"][0]["id"])
    response = quiz_client.withdraw(second["id"])
    assert response.json()["deleted_answers"] == 6
    assert Answer.objects.count() == 0
    assert all(p.withdrawn for p in Participant.objects.all())


def test_the_draw_prefers_what_was_not_heard(make_question: Any) -> None:
    [make_question(c) for c in SLOTS]
    spare = make_question(Category.SATB)
    heard = frozenset(q.pk for q in sql.live_questions() if q.pk != spare.pk)
    for seed in range(20):
        drawn = services.draw_from(sql.live_questions(), random.Random(seed), heard)
        assert spare.pk in {q.pk for q in drawn}


def test_an_attempt_played_again_keeps_the_code_and_the_code_withdraws_both(
    two_quizzes: list, quiz_client: Any
) -> None:
    from tests.bachsurvey.consent.test_withdraw_by_code import withdraw

    first = quiz_client.started()
    finish(quiz_client, first)
    code = quiz_client.progress(first["id"]).json()["withdrawal_code"]
    second = again(quiz_client, first["id"]).json()
    finish(quiz_client, second)
    # The results page of the second attempt shows the same code; one hash for both rows.
    assert quiz_client.progress(second["id"]).json()["withdrawal_code"] == code
    old, new = (Participant.objects.get(pk=p["id"]) for p in (first, second))
    assert old.withdrawal_code_hash == new.withdrawal_code_hash != ""
    assert new.study_id == old.study_id and new.study_id is not None
    # Typed on another device, the code withdraws every attempt, as the page's button does.
    assert withdraw(code).status_code == 200
    for participant in (old, new):
        participant.refresh_from_db()
        assert participant.withdrawn
    assert not Answer.objects.filter(assignment__participant__in=[old, new]).exists()


def test_a_new_start_in_the_same_browser_gets_its_own_code(quiz_client: Any, two_quizzes: list):
    first = quiz_client.started()
    second = quiz_client.started()  # the landing page again, consent given anew
    hashes = set(
        Participant.objects.filter(pk__in=[first["id"], second["id"]]).values_list(
            "withdrawal_code_hash", flat=True
        )
    )
    assert len(hashes) == 2
