"""Clip and score URLs of each assignment's own, and the record of what they sent (issue 16).

A participant never sees a stored file name. Each assignment has a random ``media_key``; the
URL of its clip on side A, say, is ``/m/<media_key><mac>``, where the MAC (HMAC with the site's
secret key) names the side and the kind (audio or score). So the URLs are

* opaque and unguessable: 128 random bits, and a MAC no one can compute without the secret key;
* different for every participant, even for the same question: a map of URLs that a script
  built from many throw-away quizzes is worth nothing to the next participant;
* valid only for the participant's own browser session (another browser gets 404), and only
  until ``CLIP_URL_SECONDS`` after the participant finished (a withdrawal deletes them at once);
* for a score, valid only once its question is answered (the reveal).

Every request for a clip's audio records the byte range it was answered with (ClipDelivery), so
the server knows how much of each clip it sent before an answer (``served_fractions``), whatever
the browser reports.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bachsurvey.models import ClipDelivery, Side
from bachsurvey.quiz_rows import MediaRow, datetime_param, table

KEY_CHARS = 22  # models.new_media_key: 16 random bytes, URL-safe base64 without padding
MAC_BYTES = 9  # 72 bits, 12 characters
KINDS = ("audio", "score")
URL_PREFIX = "/m/"
_SALT = "bachsurvey.clip_urls"
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{KEY_CHARS + MAC_BYTES * 4 // 3}}}")


def _mac(media_key: str, side: str, kind: str) -> str:
    digest = salted_hmac(_SALT, f"{media_key}/{side}/{kind}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode()


def url(media_key: str, side: str, kind: str) -> str:
    """The URL of one clip's ``kind`` ("audio" or "score") on ``side`` of an assignment."""
    return f"{URL_PREFIX}{media_key}{_mac(media_key, side, kind)}"


@dataclass(frozen=True)
class Grant:
    """What a token opens: the assignment's clip on ``side``, its ``kind``."""

    media_key: str
    side: str
    kind: str


def read_token(token: str) -> Grant | None:
    """The side and kind a well-formed token names, or None (a forged or mangled token)."""
    if not _TOKEN.fullmatch(token):
        return None
    media_key, mac = token[:KEY_CHARS], token[KEY_CHARS:]
    for side in Side.values:
        for kind in KINDS:
            if constant_time_compare(mac, _mac(media_key, side, kind)):
                return Grant(media_key, side, kind)
    return None


def expired(row: MediaRow) -> bool:
    """Whether the participant finished more than CLIP_URL_SECONDS ago."""
    if row.finished_at is None:
        return False
    return (timezone.now() - row.finished_at).total_seconds() > settings.CLIP_URL_SECONDS


# --- what was sent -------------------------------------------------------------------------------

_INSERT_DELIVERY = f"""INSERT INTO {table(ClipDelivery)}
    (assignment_id, side, first_byte, last_byte, created_at) VALUES (%s, %s, %s, %s, %s)"""


def record_delivery(assignment_id: int, side: str, first_byte: int, last_byte: int) -> None:
    """Note that bytes ``first_byte..last_byte`` (inclusive) of a clip were sent."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_DELIVERY,
            [assignment_id, side, first_byte, last_byte, datetime_param(timezone.now())],
        )


def covered_bytes(ranges: Iterable[tuple[int, int]]) -> int:
    """How many distinct bytes the inclusive ranges cover together."""
    total, reach = 0, -1  # reach: the last byte counted so far
    for first, last in sorted(ranges):
        if last > reach:
            total += last - max(first, reach + 1) + 1
            reach = last
    return total


def served_fractions(assignment_id: int, sizes: dict[str, int]) -> dict[str, float | None]:
    """Per side, the share of the clip's ``sizes[side]`` bytes sent so far (None: size unknown)."""
    ranges: dict[str, list[tuple[int, int]]] = {side: [] for side in Side.values}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT side, first_byte, last_byte FROM {table(ClipDelivery)} "
            "WHERE assignment_id = %s",
            [assignment_id],
        )
        for side, first, last in cursor.fetchall():
            ranges[side].append((first, last))
    return {
        side: round(min(covered_bytes(ranges[side]) / sizes[side], 1.0), 4)
        if sizes.get(side)
        else None
        for side in Side.values
    }
