"""The Redis page and chart cache, failing open: an outage reads as a miss.

Everything kept in this cache can be rebuilt from the database, so a Redis that
is down or slow must not take pages down with it. While Redis fails, reads miss
and writes are skipped; after a failure the cache is not asked again for
RETRY_SECONDS, so a Redis that hangs costs one timeout per pause, not one per
request. The outage is logged once per pause.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_caching.backends.rediscache import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class FailOpenRedisCache(RedisCache):
    """RedisCache whose outages are cache misses and skipped writes."""

    _down_until = 0.0

    def _call(self, name: str, miss: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            return miss
        try:
            return getattr(super(), name)(*args, **kwargs)
        except RedisError as err:
            self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning("Redis cache unavailable, serving without it: %s", err)
            return miss

    def get(self, key: str) -> Any:
        return self._call("get", None, key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._call("get_many", [None] * len(keys), *keys)

    def has(self, key: str) -> bool:
        return self._call("has", False, key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._call("set", False, key, value, timeout)

    def add(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._call("add", False, key, value, timeout)

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[Any]:
        return self._call("set_many", [], mapping, timeout)

    def delete(self, key: str) -> bool:
        return self._call("delete", False, key)

    def delete_many(self, *keys: str) -> list[Any]:
        return self._call("delete_many", [], *keys)

    def inc(self, key: str, delta: int = 1) -> Any:
        return self._call("inc", None, key, delta)

    def dec(self, key: str, delta: int = 1) -> Any:
        return self._call("dec", None, key, delta)

    def clear(self) -> bool:
        return self._call("clear", False)
