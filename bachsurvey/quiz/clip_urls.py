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

Every request for a clip's audio records the byte range it was answered with, so the server
knows how much of each clip it sent before an answer (``served_fractions``), whatever the browser
reports.

Clip requests are a participant's most frequent (ten a quiz, more than its other requests
together), so with a shared cache (CACHE_URL, as production has) they touch no PostgreSQL: the
quiz start keeps the participant's clips in their session (``remember``), the end of the quiz is
noted in the cache (``mark_ended``), and each range sent is noted there too and written to
ClipDelivery with the answer. Checked against the
database and noted in it instead, the load benchmark stored about a third fewer answers per
second (docs/results.md, "Benchmarks").
Without a shared cache (one process's memory is not another's), for scores, and for a session
without the map, the database decides and takes the ranges.
"""

from __future__ import annotations

import base64
import functools
import hmac
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bachsurvey.models import Side
from bachsurvey.quiz import sql
from bachsurvey.quiz.session import PARTICIPANT_KEY
from bachsurvey.quiz.sql import MediaRow, Quiz
from bachsurvey.redis_cache import ReusingRedisCache

logger = logging.getLogger(__name__)

KEY_CHARS = 22  # models.new_media_key: 16 random bytes, URL-safe base64 without padding
MAC_BYTES = 9  # 72 bits, 12 characters
KINDS = ("audio", "score")
URL_PREFIX = "/m/"
_SALT = "bachsurvey.clip_urls"  # fixed, not this module's path: URLs given out stay valid
CLIPS_KEY = (
    "bachsurvey_clips"  # session: media_key -> [assignment id, audio A, bytes A, audio B, bytes B]
)
ENDED_SECONDS = 30 * 24 * 3600  # how long the cache remembers that a participant finished
SENT_SECONDS = 2 * 24 * 3600  # how long the cache keeps a range until the answer writes it down
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{KEY_CHARS + MAC_BYTES * 4 // 3}}}")


@functools.lru_cache(maxsize=4)
def _hmac_for(secret: str) -> hmac.HMAC:
    """salted_hmac's keyed HMAC, made once: a token check computes up to four MACs."""
    return salted_hmac(_SALT, b"", secret=secret, algorithm="sha256")


def _mac(media_key: str, side: str, kind: str) -> str:
    mac = _hmac_for(settings.SECRET_KEY).copy()
    mac.update(f"{media_key}/{side}/{kind}".encode())
    return base64.urlsafe_b64encode(mac.digest()[:MAC_BYTES]).decode()


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


def expired(finished_at: float | None) -> bool:
    """Whether the participant finished (epoch seconds) more than CLIP_URL_SECONDS ago."""
    return finished_at is not None and time.time() - finished_at > settings.CLIP_URL_SECONDS


def row_expired(row: MediaRow) -> bool:
    return expired(None if row.finished_at is None else row.finished_at.timestamp())


# --- the session's copy --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionClip:
    """One audio clip as the participant's session knows it."""

    participant_id: str
    assignment_id: int
    side: str
    audio: str
    size: int


def _redis() -> redis.Redis | None:
    """The shared cache's Redis client (CACHE_URL; bachsurvey.redis_cache), or None without one.

    Used directly for commands the cache API lacks (a list per clip), and for reads that would
    otherwise unpickle."""
    backend = caches["default"]
    return backend.client() if isinstance(backend, ReusingRedisCache) else None


def _key(*parts: object) -> str:
    """A key in the shared cache, made as the cache makes its own (prefix, version)."""
    return caches["default"].make_key(":".join(str(part) for part in ("bachsurvey", *parts)))


def remember(request: HttpRequest, quiz: Quiz) -> None:
    """Keep the quiz's audio clips in the participant's session (at the quiz start, whose
    reply saves the session anyway)."""
    request.session[CLIPS_KEY] = {
        item.media_key: [item.assignment_id]
        + [value for side in Side.values for value in (item.audio[side], item.audio_bytes[side])]
        for item in quiz.items
    }


def mark_ended(participant_id: object, when: float) -> None:
    """The participant finished at ``when`` (epoch s), or withdrew (0: ended long ago). Kept in
    the shared cache, not the session: saving a session after an answer's commit could fail the
    reply of an answer that is stored. Without it the database decides (session_clip)."""
    client = _redis()
    if client is not None:
        try:
            client.set(_key("clips-ended", participant_id), when, ex=ENDED_SECONDS)
        except redis.RedisError:
            logger.warning("clip URLs: the cache failed; the database decides", exc_info=True)


def session_clip(session: SessionBase, grant: Grant) -> SessionClip | None:
    """The granted audio clip as the session holds it; None when the database must decide (no
    shared cache, or a session that does not hold the clip). Whether its URL is still open is
    for ``note_sent`` or ``is_open`` to say."""
    if _redis() is None:
        return None
    entry = session.get(CLIPS_KEY, {}).get(grant.media_key)
    participant = session.get(PARTICIPANT_KEY)
    if entry is None or participant is None:
        return None
    offset = 1 + 2 * Side.values.index(grant.side)
    return SessionClip(participant, entry[0], grant.side, entry[offset], entry[offset + 1])


def _open(ended: bytes | None) -> bool:
    return not expired(None if ended is None else float(ended))


def is_open(clip: SessionClip) -> bool | None:
    """Whether the clip's URLs still open (not expired, not withdrawn); None if the cache fails."""
    client = _redis()
    try:
        return (
            None if client is None else _open(client.get(_key("clips-ended", clip.participant_id)))
        )
    except redis.RedisError:
        return None


def note_sent(clip: SessionClip, first_byte: int, last_byte: int) -> bool | None:
    """Whether the clip's URLs still open, and if so, bytes ``first_byte..last_byte`` noted as
    sent: one round trip to the shared cache. (A range noted for a URL that has just expired is
    never written down: its participant has answered everything.) None if the cache fails."""
    client = _redis()
    if client is None:
        return None
    key = _key("sent", clip.assignment_id, clip.side)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.get(_key("clips-ended", clip.participant_id))
        pipe.rpush(key, f"{first_byte} {last_byte} {time.time()}")
        pipe.expire(key, SENT_SECONDS)
        ended, *_ = pipe.execute()
    except redis.RedisError:
        logger.warning("clip ranges: the cache failed; the database decides", exc_info=True)
        return None
    return _open(ended)


# --- what was sent -------------------------------------------------------------------------------


def record_delivery(assignment_id: int, side: str, first_byte: int, last_byte: int) -> None:
    """Note in the database that bytes ``first_byte..last_byte`` (inclusive) were sent (when
    no shared cache takes it: see ``note_sent``)."""
    sql.insert_deliveries([(assignment_id, side, first_byte, last_byte, timezone.now())])


def _cached_ranges(assignment_id: int) -> list[tuple[str, int, int, datetime]]:
    """The ranges the shared cache holds for an assignment: (side, first, last, when)."""
    client = _redis()
    if client is None:
        return []
    try:
        pipe = client.pipeline(transaction=False)
        for side in Side.values:
            pipe.lrange(_key("sent", assignment_id, side), 0, -1)
        lists = pipe.execute()
    except redis.RedisError:
        logger.warning("clip ranges: the cache failed; counting the database's", exc_info=True)
        return []
    out = []
    for side, entries in zip(Side.values, lists, strict=True):
        for entry in entries:
            first, last, when = entry.split()
            out.append((side, int(first), int(last), datetime.fromtimestamp(float(when), UTC)))
    return out


def covered_bytes(ranges: Iterable[tuple[int, int]]) -> int:
    """How many distinct bytes the inclusive ranges cover together."""
    total, reach = 0, -1  # reach: the last byte counted so far
    for first, last in sorted(ranges):
        if last > reach:
            total += last - max(first, reach + 1) + 1
            reach = last
    return total


def served_fractions(assignment_id: int, sizes: dict[str, int]) -> dict[str, float | None]:
    """Per side, the share of the clip's ``sizes[side]`` bytes sent so far (None: size unknown).

    Called in the answer's transaction: the ranges the cache holds are written to ClipDelivery
    with it (a range the database has already counts once: the union is what is measured)."""
    ranges: dict[str, list[tuple[int, int]]] = {side: [] for side in Side.values}
    sql.insert_deliveries([(assignment_id, *sent) for sent in _cached_ranges(assignment_id)])
    for side, first, last in sql.delivered_ranges(assignment_id):
        ranges[side].append((first, last))
    return {
        side: round(min(covered_bytes(ranges[side]) / sizes[side], 1.0), 4)
        if sizes.get(side)
        else None
        for side in Side.values
    }
