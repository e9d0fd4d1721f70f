"""A visitor's melody to harmonize (the public page /harmonize/): a status row that the task
moves from pending to running to done or failed, with the error kept, and the files it made.

Rows and files expire (settings.HARMONIZATION_TTL_SECONDS) and are then deleted
(bachsurvey.harmonize.expiry). The client's address is kept only as a keyed hash, for tracing
abuse; the rate limit itself counts in the cache.
"""

from __future__ import annotations

import uuid

from django.db import models

from composer.voices import VOICES


class Harmonization(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Format(models.TextChoices):
        TEXT = "text"
        ABC = "abc"
        MUSICXML = "musicxml"
        MIDI = "midi"  # sent base64-encoded

    class Method(models.TextChoices):
        GREEDY = "greedy"
        BEAM = "beam"

    # A random id: the result's URLs carry it, and nothing else guards them.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    client_hash = models.CharField(max_length=64, blank=True, help_text="keyed hash of the address")
    # What was asked.
    format = models.CharField(max_length=8, choices=Format.choices)
    melody = models.TextField(help_text="as sent: text, ABC, MusicXML, or MIDI in base64")
    voices = models.CharField(max_length=3, help_text="voices the network fills")
    melody_voice = models.CharField(max_length=1, choices=[(v, v) for v in VOICES], default="S")
    method = models.CharField(max_length=6, choices=Method.choices, default=Method.BEAM)
    beam_width = models.PositiveSmallIntegerField(default=5)
    # Progress and result, written by the task.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    stage = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True)
    key = models.CharField(max_length=40, blank=True, help_text="the melody's key, as analysed")
    log_prob = models.FloatField(null=True, blank=True, help_text="natural log, whole stream")
    folder = models.CharField(max_length=100, blank=True, help_text="its files, under MEDIA_ROOT")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"harmonization {str(self.id)[:8]} ({self.status})"
