"""bachsurvey.redis_cache: Django's Redis cache with one client object per connection pool."""

import pytest
from django.core.cache import caches

from bachsurvey.redis_cache import ReusingRedisCache


@pytest.mark.parametrize("counting_cache", ["redis"], indirect=True)
def test_it_reuses_one_client_and_still_caches(counting_cache: str) -> None:
    backend = caches["default"]
    assert isinstance(backend, ReusingRedisCache)
    assert backend.client() is backend.client() is backend._cache.get_client("any")
    backend.set("k", {"a": 1}, 30)
    assert backend.get("k") == {"a": 1}
    assert backend.add("n", 0, 30) and backend.incr("n") == 1
    assert backend.client().get(backend.make_key("n")) == b"1"
