"""Hostile JSON bodies of the participant API answered as clear 4xx errors, never 500.

* A body over settings.DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it (DRF's JSONParser
  reads request.body, which checks the declared length first), raising RequestDataTooBig, which
  DRF does not handle; ``too_large`` turns it into a 413 in the API's error shape.
* JSON nested too deeply for Python's parser raises RecursionError, which DRF's JSONParser does
  not catch (only ValueError); SafeJSONParser makes it a 400 like any other malformed body.
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def too_large(error: Exception) -> Exception:
    """``error`` as the API should raise it: a 413 for a body over the limit, else unchanged."""
    if not isinstance(error, RequestDataTooBig):
        return error
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return BodyTooLarge({"detail": f"Request body over {limit} bytes.", "code": "too_large"})


class SafeJSONParser(JSONParser):
    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
