"""Serializers of the researchers' API: the exclusion options in, the statistics out.

The output serializers describe ``stats.summarize``'s dict for the OpenAPI schema and pass it
through unchanged (every key is declared; nothing is computed here).
"""

from __future__ import annotations

from rest_framework import serializers

from bachsurvey.models import AgeGroup, Category, Experience
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
    """One row of answers.json (answers.csv has the same columns, in this order)."""

    answer_id = serializers.IntegerField()
    participant_id = serializers.UUIDField()
    age_group = serializers.ChoiceField(AgeGroup.choices)
    experience = serializers.ChoiceField(Experience.choices)
    attempt = serializers.IntegerField(help_text="1: the browser's first participant")
    participant_started_at = serializers.DateTimeField()
    participant_finished_at = serializers.DateTimeField(allow_null=True)
    consent_version = serializers.IntegerField(
        allow_null=True,
        help_text="the study version the participant agreed to (null: before versions existed)",
    )
    guardian_confirmed = serializers.BooleanField(
        help_text="a minor whose parent or guardian agreed too"
    )
    question_id = serializers.UUIDField()
    category = serializers.ChoiceField(Category.choices)
    position = serializers.IntegerField(help_text="0 to 4, in the participant's quiz")
    # Sides as plain strings, as in the participant API: one Side enum in the schema.
    bach_side = serializers.CharField(help_text="A or B: where the Bach clip was")
    choice = serializers.CharField(help_text="A or B")
    correct = serializers.BooleanField()
    response_ms = serializers.IntegerField(help_text="from both clips heard to the answer")
    elapsed_ms = serializers.IntegerField(allow_null=True, help_text="from the question shown")
    server_elapsed_ms = serializers.IntegerField(
        allow_null=True, help_text="the server's time from the previous answer or the start"
    )
    plays_a = serializers.IntegerField(allow_null=True)
    plays_b = serializers.IntegerField(allow_null=True)
    heard_fully_a = serializers.BooleanField(allow_null=True)
    heard_fully_b = serializers.BooleanField(allow_null=True)
    heard_fully = serializers.BooleanField(help_text="both clips played to the end (browser)")
    clip_a_served = serializers.FloatField(
        allow_null=True, help_text="share of clip A's bytes the server sent before the answer"
    )
    clip_b_served = serializers.FloatField(
        allow_null=True, help_text="share of clip B's bytes the server sent before the answer"
    )
    answered_at = serializers.DateTimeField()
    real_clip_id = serializers.IntegerField()
    real_source = serializers.CharField(allow_blank=True)
    real_duration_s = serializers.FloatField()
    generated_clip_id = serializers.IntegerField()
    generated_duration_s = serializers.FloatField()
    generated_chorale_id = serializers.IntegerField()
    generated_source = serializers.CharField(allow_blank=True)
    checkpoint = serializers.CharField(allow_blank=True)
    temperature = serializers.FloatField(allow_null=True)
    seed = serializers.IntegerField(allow_null=True)
    mask = serializers.CharField()
    batch_id = serializers.IntegerField(allow_null=True)
    batch = serializers.CharField(allow_null=True)
