"""Where rate limits keep their counts: Redis (shared by every worker) when the broker is Redis,
with this process's memory standing in while Redis is unreachable, so a Redis outage neither
lifts the limits nor turns requests into errors."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from quart_rate_limiter.redis_store import RedisStore
from quart_rate_limiter.store import MemoryStore, RateLimiterStoreABC
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


class SharedStore(RateLimiterStoreABC):
    def __init__(self, url: str) -> None:
        self.shared = RedisStore(url, **TIMEOUTS)
        self.local = MemoryStore()

    async def before_serving(self) -> None:
        await self.shared.before_serving()

    async def after_serving(self) -> None:
        await self.shared.after_serving()

    async def get(self, key: str, default: datetime) -> datetime:
        try:
            return await self.shared.get(key, default)
        except (RedisError, OSError) as error:
            log.warning("rate limits counted locally while Redis is away: %s", error)
            return await self.local.get(key, default)

    async def set(self, key: str, tat: datetime) -> None:
        await self.local.set(key, tat)
        with contextlib.suppress(RedisError, OSError):  # counted locally; get() says so
            await self.shared.set(key, tat)


def rate_store(broker_url: str) -> RateLimiterStoreABC:
    if broker_url.startswith(("redis://", "rediss://")):
        return SharedStore(broker_url)
    return MemoryStore()
