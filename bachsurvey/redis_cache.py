"""Django's Redis cache, with one client object per connection pool instead of one per command.

Django's RedisCacheClient wraps its connection pool in a new ``redis.Redis`` for every command,
and building one costs more CPU than the command itself (measured when this was written), and
several times per request (the session, the rate limits, a clip's record). A ``redis.Redis``
only holds its pool and is safe to share between threads, so one per pool serves. ``client()``
hands the same object to code that needs commands the cache API lacks (bachsurvey.quiz.clip_urls).
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        index = self._get_connection_pool_index(write)
        if index not in self._clients:
            self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return self._clients[index]


class ReusingRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def client(self) -> redis.Redis:
        """The Redis client (of the server written to) for commands the cache API lacks; keys
        are not prefixed for you (``make_key`` does that)."""
        return self._cache.get_client(write=True)
