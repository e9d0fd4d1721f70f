"""Small input and output serializers of the participant API, one set per endpoint.

Output is built from plain dicts by the ``*_payload`` functions below, so that what a question
shows before it is answered is written in exactly one place: a label and an audio URL per clip,
the same fields in the same order for both sides, and nothing else (no clip id, duration, file
size or score). The URLs are this assignment's own (bachsurvey.quiz.clip_urls), never file names.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from bachsurvey.models import AgeGroup, Experience, Side
from bachsurvey.quiz import clip_urls, scores, services
from bachsurvey.quiz.sql import Quiz, QuizItem

# --- input ---------------------------------------------------------------------------------------


class ParticipantInput(serializers.Serializer):
    consent = serializers.BooleanField(help_text="must be true")
    age_group = serializers.ChoiceField(choices=AgeGroup.choices)
    experience = serializers.ChoiceField(choices=Experience.choices)
    consent_version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="the study version the page showed; must be the current one",
    )
    guardian_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="a parent or guardian agreed too: needed for minors when the study allows them",
    )

    def validate_consent(self, value: bool) -> bool:
        # BooleanField also takes "yes", 1, "on"…; consent must be the JSON value true.
        if self.initial_data.get("consent") is not True:
            raise serializers.ValidationError(_("Consent is required to take part."))
        return value

    def validate_guardian_consent(self, value: bool) -> bool:
        # As for consent: a guardian's agreement is the JSON value true, nothing that reads like it.
        given = self.initial_data.get("guardian_consent", False)
        if given is not True and given is not False:  # `in (True, False)` would take 1 and 0
            raise serializers.ValidationError(_("Must be true or false."))
        return value


class PerClipCounts(serializers.Serializer):
    A = serializers.IntegerField(min_value=0, max_value=1000)
    B = serializers.IntegerField(min_value=0, max_value=1000)


class PerClipFlags(serializers.Serializer):
    A = serializers.BooleanField()
    B = serializers.BooleanField()


class AnswerInput(serializers.Serializer):
    question = serializers.UUIDField()
    choice = serializers.ChoiceField(choices=Side.choices)
    response_ms = serializers.IntegerField(min_value=0, max_value=services.MAX_RESPONSE_MS)
    elapsed_ms = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_RESPONSE_MS,
        required=False,
        allow_null=True,
        help_text="from the question shown to the answer",
    )
    plays = PerClipCounts()
    heard_fully = PerClipFlags()


# --- output --------------------------------------------------------------------------------------


# Output sides are plain strings ("A" or "B"): one Side enum in the schema, the input's.
class ClipOutput(serializers.Serializer):
    label = serializers.CharField(help_text="A or B")
    audio_url = serializers.CharField()


class ScoreOutput(serializers.Serializer):
    label = serializers.CharField(help_text="A or B")
    score_url = serializers.CharField(help_text="the clip's score as SVG")


class QuestionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField(help_text="0 to 4")
    category = serializers.CharField()
    clips = ClipOutput(many=True)


class ChoraleOutput(serializers.Serializer):
    bwv = serializers.CharField(help_text='the BWV number, e.g. "96.6"; blank if unknown')
    title = serializers.CharField(help_text="its title; blank when music21 lists none")


class AnswerOutput(serializers.Serializer):
    choice = serializers.CharField(help_text="A or B")
    correct = serializers.BooleanField()
    bach = serializers.CharField(help_text="the side that held Bach: A or B")
    chorale = ChoraleOutput(help_text="the Bach chorale the Bach clip comes from")
    scores = ScoreOutput(many=True)


class AnswerCreatedOutput(AnswerOutput):
    answered = serializers.IntegerField()
    finished = serializers.BooleanField()


class QuestionProgressOutput(QuestionOutput):
    answer = AnswerOutput(allow_null=True, help_text="null until answered")


class CategoryResultOutput(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    your_correct = serializers.IntegerField()
    your_answered = serializers.IntegerField()
    everyone_correct = serializers.IntegerField()
    everyone_answered = serializers.IntegerField()
    everyone_accuracy = serializers.FloatField(allow_null=True)


class ResultsOutput(serializers.Serializer):
    correct = serializers.IntegerField()
    answered = serializers.IntegerField()
    categories = CategoryResultOutput(many=True)
    everyone_participants = serializers.IntegerField()
    everyone_correct = serializers.IntegerField()
    everyone_answered = serializers.IntegerField()
    score_distribution = serializers.ListField(
        child=serializers.IntegerField(), help_text="finished participants by correct answers 0–5"
    )


class ParticipantCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    questions = QuestionOutput(many=True)


class ProgressOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["in_progress", "finished", "withdrawn"])
    answered = serializers.IntegerField()
    total = serializers.IntegerField()
    questions = QuestionProgressOutput(many=True)
    results = ResultsOutput(allow_null=True, help_text="null until finished")
    withdrawal_code = serializers.CharField(
        allow_null=True,
        help_text="withdraws from any device at /withdraw/; null once withdrawn",
    )


class WithdrawnOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["withdrawn"])
    deleted_answers = serializers.IntegerField()


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


# --- payloads ------------------------------------------------------------------------------------


def bwv_of(source: str) -> str:
    """``bwv96.6`` -> ``96.6`` (a corpus id's BWV number; "" for a source that has none)."""
    return source[3:] if source.lower().startswith("bwv") else ""


def question_payload(item: QuizItem) -> dict[str, Any]:
    return {
        "id": item.question_id,
        "position": item.position,
        "category": item.category,
        "clips": [
            {"label": side, "audio_url": clip_urls.url(item.media_key, side, "audio")}
            for side in Side.values
        ],
    }


def answer_payload(item: QuizItem) -> dict[str, Any] | None:
    if not item.answered:
        return None
    return {
        "choice": item.choice,
        "correct": item.correct,
        "bach": item.bach_side,
        # Named only now: no two questions of a quiz share a chorale (services.draw_from), so
        # the name tells nothing about a later question.
        "chorale": {"bwv": bwv_of(item.bach_source), "title": item.bach_title},
        "scores": [
            {"label": side, "score_url": clip_urls.url(item.media_key, side, "score")}
            for side in Side.values
        ],
    }


def progress_payload(quiz: Quiz, withdrawal_code: str | None) -> dict[str, Any]:
    """``withdrawal_code``: as this browser's session holds it (never read from the database)."""
    items = [] if quiz.withdrawn else quiz.items
    questions = [{**question_payload(i), "answer": answer_payload(i)} for i in items]
    if quiz.withdrawn:
        status = "withdrawn"
    elif quiz.finished_at is not None:
        status = "finished"
    else:
        status = "in_progress"
    return {
        "id": quiz.participant_id,
        "status": status,
        "answered": sum(q["answer"] is not None for q in questions),
        "total": services.QUESTIONS_PER_PARTICIPANT,
        "questions": questions,
        "results": results_payload(quiz) if status == "finished" else None,
        "withdrawal_code": None if quiz.withdrawn else withdrawal_code,
    }


def results_payload(quiz: Quiz) -> dict[str, Any]:
    figures = scores.results(quiz)
    return {
        **{k: v for k, v in vars(figures).items() if k != "categories"},
        "categories": [
            {**vars(c), "everyone_accuracy": c.everyone_accuracy} for c in figures.categories
        ],
    }
