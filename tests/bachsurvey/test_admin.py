"""The admin lists every survey model, and puts questions live only with approval."""

from typing import Any

import pytest
from django.test import Client

from bachsurvey.models import Question

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["batch", "chorale", "clip", "question", "participant", "answer", "study"]
)
def test_it_lists_each_model(admin_client: Client, quiz: list, model: str) -> None:
    assert admin_client.get(f"/admin/bachsurvey/{model}/").status_code == 200


def test_it_approves_and_puts_questions_live(admin_client: Client, make_question: Any) -> None:
    draft = make_question("SATB", live=False)
    response = admin_client.post(
        "/admin/bachsurvey/question/",
        {"action": "approve_and_go_live", "_selected_action": [str(draft.pk)]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.live) == (Question.Status.APPROVED, True)
