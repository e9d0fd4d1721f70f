"""Database constraints that hold even if a service forgets a check."""

from typing import Any

import pytest
from django.db import IntegrityError

from bachsurvey.generation import content
from bachsurvey.models import Answer, Assignment, Question

pytestmark = pytest.mark.django_db


def test_it_stores_one_answer_per_assignment(quiz: list, quiz_client: Any) -> None:
    data = quiz_client.started()
    quiz_client.answer(data["id"], data["questions"][0]["id"])
    assignment = Assignment.objects.get(participant=data["id"], position=0)
    with pytest.raises(IntegrityError):
        Answer.objects.create(
            assignment=assignment,
            choice="B",
            correct=False,
            response_ms=1,
            plays={},
            heard_fully={},
        )


def test_it_puts_only_approved_questions_live(quiz: list) -> None:
    with pytest.raises(IntegrityError):
        Question.objects.filter(pk=quiz[0].pk).update(status=Question.Status.DRAFT)


def test_it_refuses_pairs_that_would_give_the_answer_away(make_question: Any) -> None:
    question = make_question("S", frames=32)
    longer = make_question("A", frames=48)
    with pytest.raises(content.InvalidContent, match="length"):
        content.add_question(
            category="S", clip_real=question.clip_real, clip_generated=longer.clip_generated
        )
    with pytest.raises(content.InvalidContent, match="mask"):
        content.add_question(
            category="T", clip_real=question.clip_real, clip_generated=question.clip_generated
        )
    with pytest.raises(content.InvalidContent, match="one real"):
        content.add_question(
            category="S", clip_real=question.clip_generated, clip_generated=question.clip_real
        )
