"""Bach's side per question is balanced from counters on the question rows, not by counting
every earlier assignment at each quiz start (which grows with the survey)."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bachsurvey import services
from bachsurvey.models import Assignment, Participant, Question


def assignment_counts() -> Counter:
    return Counter(Assignment.objects.values_list("question", "bach_side"))


def assert_counters_match(quiz: list[Question], balanced: bool = True) -> None:
    counts = assignment_counts()
    for question in Question.objects.filter(pk__in=[q.pk for q in quiz]):
        pair = (question.bach_on_a, question.bach_on_b)
        assert pair == (counts[(question.pk, "A")], counts[(question.pk, "B")]), question
        if balanced:  # (a withdrawal takes assignments of one side away)
            assert abs(question.bach_on_a - question.bach_on_b) <= 1, question


@pytest.mark.django_db
def test_the_counters_follow_quiz_starts_and_withdrawals(quiz: list[Question]) -> None:
    participants = [
        services.create_participant(age_group="18-25", experience="novice", rng=random.Random(i))
        for i in range(12)
    ]
    assert_counters_match(quiz)
    for participant in participants[:5]:
        services.withdraw(participant)
        services.withdraw(participant)  # twice: nothing more to take off
    assert_counters_match(quiz, balanced=False)


@pytest.mark.django_db
def test_a_quiz_start_counts_no_assignments(quiz: list[Question]) -> None:
    with CaptureQueriesContext(connection) as queries:
        services.create_participant(age_group="18-25", experience="novice")
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counting == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_quiz_starts_stay_balanced(quiz: list[Question]) -> None:
    """Starts that share questions take turns on their rows: counts never differ by more than
    one even when they all run at once (and no two wait on each other for ever)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (set DATABASE_URL)")
    errors: list[BaseException] = []

    def start(seed: int) -> None:
        try:
            services.create_participant(
                age_group="18-25", experience="novice", rng=random.Random(seed)
            )
        except BaseException as error:  # reported below, from the test's own thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(seed,)) for seed in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and Participant.objects.count() == 12
    assert_counters_match(quiz)
