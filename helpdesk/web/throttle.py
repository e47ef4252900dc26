"""Failed sign-ins per client address and per account (GCRA on quart-rate-limiter's stores)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from quart_rate_limiter.store import RateLimiterStoreABC

from ..errors import RateLimited


class LoginThrottle:
    """At most `max_failures` failed attempts per `window` for each key; successes cost nothing.

    The store is shared by every worker (Redis) or this process (memory), so the count is too.
    """

    def __init__(self, store: RateLimiterStoreABC, max_failures: int, window_seconds: int) -> None:
        self.store = store
        self.window = timedelta(seconds=window_seconds)
        self.interval = self.window / max_failures

    async def check(self, keys: list[str]) -> None:
        """Raise RateLimited while any key has used up its failures."""
        now = datetime.now(UTC)
        for key in keys:
            tat = await self._tat(key, now)
            wait = (tat - (self.window - self.interval)) - now
            if wait > timedelta(0):
                raise RateLimited(
                    "too many failed sign-ins; wait a moment and try again",
                    retry_after=max(1, math.ceil(wait.total_seconds())),
                )

    async def record_failure(self, keys: list[str]) -> None:
        now = datetime.now(UTC)
        for key in keys:
            tat = await self._tat(key, now)
            await self.store.set(key, max(tat, now) + self.interval)

    async def _tat(self, key: str, now: datetime) -> datetime:
        tat = await self.store.get(key, now)
        if tat.tzinfo is None:
            tat = tat.astimezone(UTC)
        return tat


def login_keys(client_address: str, username: str) -> list[str]:
    return [f"helpdesk:login:addr:{client_address}", f"helpdesk:login:user:{username.lower()}"]
