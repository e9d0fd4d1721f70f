"""Serializers of the researchers' API: the exclusion options in, the statistics out.

The output serializers describe ``stats.summarize``'s dict for the OpenAPI schema and pass it
through unchanged (every key is declared; nothing is computed here).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bachsurvey.models import AgeGroup, Category, Experience
from bachsurvey.research.records import DateRange
from bachsurvey.research.stats import EXCLUSION_RULES, Exclusions

# --- input ---------------------------------------------------------------------------------------


class ExclusionQuery(serializers.Serializer):
    """Query parameters (API) and GET form fields (dashboard): each rule is off unless set."""

    exclude_not_heard_fully = serializers.BooleanField(
        default=False, help_text=f"exclude answers where {EXCLUSION_RULES['not_heard_fully']}"
    )
    exclude_faster_than_clips = serializers.BooleanField(
        default=False, help_text=f"exclude answers {EXCLUSION_RULES['faster_than_clips']}"
    )
    exclude_repeat_attempts = serializers.BooleanField(
        default=False, help_text=f"exclude answers of {EXCLUSION_RULES['repeat_attempts']}"
    )

    def exclusions(self) -> Exclusions:
        values = self.validated_data
        return Exclusions(**{name: values[f"exclude_{name}"] for name in EXCLUSION_RULES})


class OptionalDateField(serializers.DateField):
    """A date, or nothing: the dashboard's form sends an empty date field as ``date_from=``."""

    def to_internal_value(self, value: object) -> Any:
        return None if value == "" else super().to_internal_value(value)


class ResultsQuery(ExclusionQuery):
    """The exclusion options and a range of days (UTC): every figure and plot is of the answers
    given on those days; the funnel is of the participants who started on them."""

    date_from = OptionalDateField(
        required=False, help_text="first day (UTC, YYYY-MM-DD) of the answers counted"
    )
    date_to = OptionalDateField(
        required=False, help_text="last day (UTC, YYYY-MM-DD, included) of the answers counted"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs.get("date_from"), attrs.get("date_to")
        if first and last and first > last:
            raise serializers.ValidationError({"date_to": f"{last} is before date_from ({first})."})
        return attrs

    def dates(self) -> DateRange:
        return DateRange(self.validated_data.get("date_from"), self.validated_data.get("date_to"))

    def params(self) -> dict[str, str]:
        """The query as it was understood, in a fixed order: a cache key and the links that
        carry it (plot downloads, the JSON summary)."""
        out = {name: "true" for name, on in self.validated_data.items() if on is True}
        for name in ("date_from", "date_to"):
            if self.validated_data.get(name):
                out[name] = self.validated_data[name].isoformat()
        return dict(sorted(out.items()))


def query_errors(errors: dict[str, Any]) -> str:
    """A serializer's errors as one line that names each parameter: ``date_from: Date has wrong
    format…``."""
    parts = []
    for name, messages in errors.items():
        text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return "; ".join(parts)


# --- output --------------------------------------------------------------------------------------


def _interval(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, **kwargs
    )


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class CellOutput(serializers.Serializer):
    category = serializers.CharField(help_text="S, A, T, B, AT, ATB, SATB or all")
    experience = serializers.CharField(help_text="novice … expert, or all")
    n = serializers.IntegerField()
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    wilson = _interval(allow_null=True, help_text="95% Wilson interval")
    clopper_pearson = _interval(allow_null=True, help_text="exact 95% interval")
    p_value = serializers.FloatField(allow_null=True, help_text="exact one-sided, against 0.5")
    d_prime = serializers.FloatField(allow_null=True, help_text="√2·Φ⁻¹(accuracy)")


class ItemOutput(serializers.Serializer):
    item_id = serializers.CharField(help_text="the question's id")
    category = serializers.CharField()
    questions = serializers.ListField(child=serializers.CharField())
    n = serializers.IntegerField()
    correct = serializers.IntegerField()
    fooled = serializers.IntegerField(help_text="answers that took the generated clip for Bach")
    accuracy = serializers.FloatField(allow_null=True)
    wilson = _interval(allow_null=True)


class EstimateOutput(serializers.Serializer):
    estimate = serializers.FloatField()
    interval = _interval()


class InterceptOutput(EstimateOutput):
    sd = serializers.FloatField(help_text="Laplace posterior SD")
    sd_vb = serializers.FloatField(help_text="variational posterior SD (too narrow)")


class ComponentOutput(serializers.Serializer):
    sd = serializers.FloatField()
    sd_interval = _interval()
    variance = serializers.FloatField()


class ModelOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        ["ok", "not_enough_data", "not_converged", "failed", "skipped"]
    )
    note = serializers.CharField(allow_blank=True)
    method = serializers.CharField()
    n = serializers.IntegerField()
    participants = serializers.IntegerField()
    items = serializers.IntegerField()
    intercept = InterceptOutput(allow_null=True)
    accuracy = EstimateOutput(allow_null=True, help_text="median listener on the median item")
    accuracy_marginal = EstimateOutput(allow_null=True, help_text="averaged over the population")
    p_value = serializers.FloatField(allow_null=True)
    variance_components = serializers.DictField(child=ComponentOutput(), allow_null=True)


class RuleOutput(serializers.Serializer):
    on = serializers.BooleanField()
    excluded = serializers.IntegerField(help_text="answers the rule matches, on or off")
    rule = serializers.CharField()
    undetermined = serializers.IntegerField(required=False, help_text="answers it cannot judge")


class ExclusionsOutput(serializers.Serializer):
    not_heard_fully = RuleOutput()
    faster_than_clips = RuleOutput()
    repeat_attempts = RuleOutput()


class CountsOutput(serializers.Serializer):
    answers_given = serializers.IntegerField(help_text="before exclusions")
    answers = serializers.IntegerField(help_text="after exclusions")
    participants = serializers.IntegerField()
    items = serializers.IntegerField()


class PositionOutput(serializers.Serializer):
    A = CellOutput(help_text="answers with Bach on side A")
    B = CellOutput(help_text="answers with Bach on side B")


class SummaryOutput(serializers.Serializer):
    overall = CellOutput()
    cells = CellOutput(many=True)
    items = ItemOutput(many=True)
    model = ModelOutput()
    exclusions = ExclusionsOutput()
    position = PositionOutput(help_text="position bias: accuracy with Bach on each side")
    n = CountsOutput()


class ItemDetailOutput(ItemOutput):
    real_source = serializers.CharField(allow_blank=True, help_text="the Bach clip's chorale")
    generated_chorale_id = serializers.IntegerField()
    checkpoint = serializers.CharField(allow_blank=True)
    temperature = serializers.FloatField(allow_null=True)
    seed = serializers.IntegerField(allow_null=True)
    mask = serializers.CharField(help_text="voices the model wrote")
    batch = serializers.CharField(allow_null=True)
    duration_s = serializers.FloatField()
    live = serializers.BooleanField(help_text="still served in the quiz")


class ItemsOutput(serializers.Serializer):
    exclusions = ExclusionsOutput()
    n = CountsOutput()
    items = ItemDetailOutput(many=True)


class AnswerRowOutput(serializers.Serializer):
    """One row of answers.json (answers.csv has the same columns, in this order). Every field's
    help text is its meaning in the codebook (bachsurvey.research.codebook, docs/codebook.md)."""

    answer_id = serializers.IntegerField(help_text="the answer's number; grows with time")
    participant_id = serializers.UUIDField(help_text="the participant, a random id")
    age_group = serializers.ChoiceField(AgeGroup.choices, help_text="the participant's age")
    experience = serializers.ChoiceField(
        Experience.choices, help_text="the participant's own account of their music experience"
    )
    attempt = serializers.IntegerField(
        min_value=1,
        help_text="1 for the first participant started in this browser, 2 for the next, …",
    )
    participant_started_at = serializers.DateTimeField(
        help_text="when the participant consented and started"
    )
    participant_finished_at = serializers.DateTimeField(
        allow_null=True, help_text="when they answered their last question; empty if they have not"
    )
    consent_version = serializers.IntegerField(
        allow_null=True,
        help_text="the study version the participant agreed to (null: before versions existed)",
    )
    guardian_confirmed = serializers.BooleanField(
        help_text="a minor whose parent or guardian agreed too"
    )
    question_id = serializers.UUIDField(help_text="the question (a pair of clips), a random id")
    category = serializers.ChoiceField(
        Category.choices, help_text="what the model wrote in the generated clip"
    )
    position = serializers.IntegerField(
        min_value=0, max_value=4, help_text="the question's place in the participant's quiz"
    )
    # Sides as plain strings, as in the participant API: one Side enum in the schema.
    bach_side = serializers.CharField(help_text="A or B: where the Bach clip was")
    choice = serializers.CharField(help_text="A or B: the clip the participant took for Bach")
    correct = serializers.BooleanField(help_text="the choice was the Bach clip")
    response_ms = serializers.IntegerField(
        min_value=0, help_text="milliseconds from both clips heard to the answer (the browser)"
    )
    elapsed_ms = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text="milliseconds from the question shown to the answer (the browser); empty if "
        "it sent none",
    )
    server_elapsed_ms = serializers.IntegerField(
        allow_null=True,
        min_value=0,
        help_text="milliseconds from the previous answer, or the start, to this one (the "
        "server); empty on answers stored before it was recorded",
    )
    plays_a = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="times clip A was started"
    )
    plays_b = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="times clip B was started"
    )
    heard_fully_a = serializers.BooleanField(
        allow_null=True, help_text="clip A was played to its end (the browser)"
    )
    heard_fully_b = serializers.BooleanField(
        allow_null=True, help_text="clip B was played to its end (the browser)"
    )
    heard_fully = serializers.BooleanField(help_text="both clips played to the end (the browser)")
    clip_a_served = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="share of clip A's bytes the server sent before the answer; empty on answers "
        "stored before it was recorded",
    )
    clip_b_served = serializers.FloatField(
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text="share of clip B's bytes the server sent before the answer; empty on answers "
        "stored before it was recorded",
    )
    answered_at = serializers.DateTimeField(help_text="when the server stored the answer")
    real_clip_id = serializers.IntegerField(help_text="the Bach clip")
    real_source = serializers.CharField(
        allow_blank=True, help_text="the Bach clip's chorale in the music21 corpus (BWV)"
    )
    real_duration_s = serializers.FloatField(help_text="the Bach clip's length, seconds")
    generated_clip_id = serializers.IntegerField(help_text="the generated clip")
    generated_duration_s = serializers.FloatField(help_text="the generated clip's length, seconds")
    generated_chorale_id = serializers.IntegerField(
        help_text="the generated chorale it is cut from"
    )
    generated_source = serializers.CharField(
        allow_blank=True,
        help_text="a harmonization's Bach chorale, whose other voices were kept; blank for a "
        "free composition",
    )
    checkpoint = serializers.CharField(
        allow_blank=True, help_text="the model checkpoint that wrote it"
    )
    temperature = serializers.FloatField(
        allow_null=True,
        help_text="the sampling temperature; empty for a harmonization found by search",
    )
    seed = serializers.IntegerField(allow_null=True, help_text="the random seed of its batch")
    mask = serializers.CharField(
        help_text="the voices the model wrote: S, A, T, B, AT, ATB or SATB (free)"
    )
    batch_id = serializers.IntegerField(
        allow_null=True, help_text="its generation batch; empty for the demo's fixtures"
    )
    batch = serializers.CharField(
        allow_null=True, help_text="its generation batch's name; empty for the demo's fixtures"
    )


class CodebookOutput(serializers.Serializer):
    column = serializers.CharField(help_text="the column's name in answers.csv and answers.json")
    type = serializers.CharField()
    nullable = serializers.BooleanField(help_text="the column can be empty (CSV) or null (JSON)")
    values = serializers.CharField(help_text="the values it takes")
    meaning = serializers.CharField()
