"""A visitor's harmonization request: the melody checked here, in the web process (music21 only:
format, size, notes, range, voices, and the quiz guard), the row stored and its task queued once
committed. Every refusal is a Refused whose message names the problem, and the note or bar when
there is one."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bachsurvey.harmonize import expiry, oracle, tasks
from bachsurvey.harmonize.payload import Refused, melody_bytes
from bachsurvey.models import Harmonization


def read(melody: str, fmt: str, voices: str, melody_voice: str | None) -> Any:
    """The melody (composer.melody.Melody) and the voice it sits in, or Refused."""
    from composer.harmonization.masks import HarmonizationError, voice_indices
    from composer.melody import MelodyError, model_transposition, read_melody_data
    from composer.melody import melody_voice as voice_of

    try:
        voice_indices(voices)
        voice = voice_of(voices, melody_voice)
        parsed = read_melody_data(melody_bytes(melody, fmt), fmt)
        model_transposition(parsed, voice)
    except (MelodyError, HarmonizationError) as error:
        raise Refused(str(error), "bad_melody") from error
    try:
        oracle.refuse_quiz_melody(parsed.notes)
    except oracle.QuizMelody as error:
        raise Refused(str(error), "quiz_melody") from error
    return parsed, voice


def client_hash(address: str) -> str:
    """The address, keyed with the secret key: the same address gives the same hash, and the
    hash gives nothing back."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def create(
    *,
    melody: str,
    fmt: str,
    voices: str = "ATB",
    melody_voice: str | None = None,
    method: str = "beam",
    beam_width: int = 5,
    address: str = "",
) -> Harmonization:
    """A pending request, queued to the gpu queue once committed (run at once without a broker)."""
    voices = voices.upper()
    parsed, voice = read(melody, fmt, voices, melody_voice)
    expiry.delete_expired(limit=20)  # now and then, so that no cron job is needed
    row = Harmonization(
        expires_at=timezone.now() + timedelta(seconds=settings.HARMONIZATION_TTL_SECONDS),
        client_hash=client_hash(address) if address else "",
        format=fmt,
        melody=melody,
        voices=voices,
        melody_voice=voice,
        method=method,
        beam_width=beam_width,
        key=str(parsed.key),
        stage="queued",
    )
    with transaction.atomic():
        row.save()
        tasks.harmonize_melody.delay_on_commit(str(row.pk))
    row.refresh_from_db()  # without a broker the task has run by now
    return row
