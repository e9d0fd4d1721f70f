"""Hostile JSON bodies answered as clear 4xx errors, never 500. SafeJSONParser is DRF's default
parser (settings.REST_FRAMEWORK), so every API view reads its body through it.

* A body over settings.DATA_UPLOAD_MAX_MEMORY_SIZE: Django refuses to read it (DRF's JSONParser
  reads request.body, which checks the declared length first), raising RequestDataTooBig, which
  DRF does not handle; ``too_large`` turns it into a 413 in the API's error shape.
* JSON nested too deeply for Python's parser raises RecursionError, which DRF's JSONParser does
  not catch (only ValueError); SafeJSONParser makes it a 400 like any other malformed body.
* Python's parser takes what the rest of the stack cannot: a lone surrogate ("\\ud800") that DRF's
  own error reply then fails to encode, a NUL that PostgreSQL refuses to store, 1e999 (infinity),
  NaN, and integers of thousands of digits (slow to convert; past 4300 digits a ValueError whose
  text talks of sys.set_int_max_str_digits). Each is a 400 whose detail names the field (its
  path, as ``plays.A``) and the problem, in keys as in values.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# The API's largest number is a response time in milliseconds; longer numbers reach the
# serializers (which say what range a field takes) up to this many characters.
MAX_NUMBER_CHARS = 100
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def too_large(error: Exception) -> Exception:
    """``error`` as the API should raise it: a 413 for a body over the limit, else unchanged."""
    if not isinstance(error, RequestDataTooBig):
        return error
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = _("Request body over %(limit)s bytes.") % {"limit": limit}
    return BodyTooLarge({"detail": detail, "code": "too_large"})


class _Refused:
    """Stands in the parsed body for a number the API refuses, until its path is known."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _number(convert: Callable[[str], float]) -> Callable[[str], object]:
    def parse(text: str) -> object:
        if len(text.lstrip("-")) > MAX_NUMBER_CHARS:
            return _Refused(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
        value = convert(text)
        return value if math.isfinite(value) else _Refused(f"the number {text} is out of range")

    return parse


def _text_problem(text: str) -> str | None:
    if text.isascii() and "\x00" not in text:
        return None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a NUL character (\\u0000) in the text"
    return f"a lone surrogate (\\u{ord(found.group()):04x}) in the text"


def _name(path: str, key: str) -> str:
    shown = key if _text_problem(key) is None else ascii(key)  # the message must encode itself
    return f"{path}.{shown}" if path else shown


def problem(value: Any, path: str = "") -> str | None:
    """What in the parsed body ``value`` the API refuses, with the field's path, or None."""
    where = path or "the body"
    if isinstance(value, _Refused):
        return f"{where}: {value.problem}"
    if isinstance(value, str):
        found = _text_problem(value)
        return None if found is None else f"{where}: {found}"
    if isinstance(value, dict):
        for key, item in value.items():
            name = _name(path, key)
            found = _text_problem(key)
            if found is not None:
                return f"{name}: {found} of the field's name"
            found = problem(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = problem(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class SafeJSONParser(JSONParser):
    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(
                codecs.getreader(encoding)(stream),
                parse_int=_number(int),
                parse_float=_number(float),
                parse_constant=lambda name: _Refused(f"{name} is not a JSON number"),
            )
            found = problem(data)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if found is not None:
            raise ParseError(f"JSON parse error - {found}")
        return data
