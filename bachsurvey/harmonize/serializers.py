"""Input and output of the harmonizer's API (docs/api.md, "The harmonizer")."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from bachsurvey.models import Harmonization

MAX_BEAM_WIDTH = 8  # wider beams cost time and, measured, buy next to nothing
# A 1 MB file in base64 is 1,333,336 characters; MusicXML's quotes grow a little in JSON.
MAX_MELODY_CHARS = 1_400_000


class HarmonizationInput(serializers.Serializer):
    melody = serializers.CharField(
        max_length=MAX_MELODY_CHARS,
        trim_whitespace=False,
        help_text="text (the melody syntax), ABC, MusicXML, or a MIDI file in base64",
    )
    format = serializers.ChoiceField(choices=Harmonization.Format.choices)
    voices = serializers.RegexField(
        r"^[SATBsatb]{1,3}$",
        default="ATB",
        help_text="the voices the network fills: any of S, A, T, B but the melody's own",
        error_messages={"invalid": _("name one to three of the voices S, A, T, B")},
    )
    melody_voice = serializers.ChoiceField(
        choices=["S", "A", "T", "B"],
        required=False,
        help_text="the voice that sings the melody (default: the soprano, or the one voice "
        "that three voices leave)",
    )
    method = serializers.ChoiceField(choices=Harmonization.Method.choices, default="beam")
    beam_width = serializers.IntegerField(min_value=1, max_value=MAX_BEAM_WIDTH, default=5)


class HarmonizationCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status_url = serializers.CharField()


class HarmonizationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Harmonization.Status.choices)
    stage = serializers.CharField(help_text="what the task is doing, while it runs")
    error = serializers.CharField(allow_null=True)
    key = serializers.CharField(help_text="the melody's key, as analysed")
    voices = serializers.CharField()
    melody_voice = serializers.CharField()
    method = serializers.CharField()
    log_prob = serializers.FloatField(allow_null=True, help_text="natural log, whole stream")
    score_url = serializers.CharField(allow_null=True, help_text="SVG")
    audio_url = serializers.CharField(allow_null=True, help_text="MP3")
    midi_url = serializers.CharField(allow_null=True)
    musicxml_url = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField()


def status_url(row: Harmonization) -> str:
    return reverse("harmonization", args=[row.pk])


def payload(row: Harmonization) -> dict[str, Any]:
    """A request's state; the file URLs once it is done."""
    done = row.status == Harmonization.Status.DONE
    urls = {
        f"{kind}_url": reverse("harmonization-file", args=[row.pk, kind]) if done else None
        for kind in ("score", "audio", "midi", "musicxml")
    }
    return {
        "id": row.pk,
        "status": row.status,
        "stage": row.stage,
        "error": row.error or None,
        "key": row.key,
        "voices": row.voices,
        "melody_voice": row.melody_voice,
        "method": row.method,
        "log_prob": row.log_prob,
        **urls,
        "expires_at": row.expires_at,
    }
