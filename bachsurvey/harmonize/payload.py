"""A melody as the API receives it (MIDI base64-encoded, the rest as text), and the refusal of
a request for its input; shared by the request (bachsurvey.harmonize.requests) and the task."""

from __future__ import annotations

import base64
import binascii

from bachsurvey.models import Harmonization


class Refused(Exception):
    """A request refused for its input; ``code`` tells the kind ("bad_melody", "quiz_melody")."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def melody_bytes(melody: str, fmt: str) -> bytes:
    """The melody as the composer reads it: MIDI arrives base64-encoded, the rest as text."""
    if fmt != Harmonization.Format.MIDI:
        return melody.encode("utf-8")
    try:
        return base64.b64decode(melody, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("a MIDI melody must be sent base64-encoded", "bad_melody") from None
