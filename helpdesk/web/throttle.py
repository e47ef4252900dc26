"""Rate limits that must hold across every worker: GCRA over quart-rate-limiter's stores
(memory in one process, Redis when the broker is Redis, so all processes share the counts)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from quart_rate_limiter.store import RateLimiterStoreABC

from ..errors import RateLimited
from ..models import User
from .context import services


class Throttle:
    """At most `count` uses per `window_seconds` for each key, in bursts of up to `count`."""

    def __init__(
        self,
        store: RateLimiterStoreABC,
        count: int,
        window_seconds: float,
        refusal: str,
        prefix: str = "helpdesk",
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.window = timedelta(seconds=window_seconds)
        self.interval = self.window / count
        self.refusal = refusal

    async def check(self, keys: list[str]) -> None:
        """Raise RateLimited while any key has used up its allowance."""
        now = datetime.now(UTC)
        for key in keys:
            self._refuse_if_used_up(await self._tat(key, now), now)

    async def spend(self, keys: list[str]) -> None:
        now = datetime.now(UTC)
        for key in keys:
            await self._use(key, await self._tat(key, now), now)

    async def take(self, keys: list[str]) -> None:
        """`check`, then `spend`, reading each key's count once (a round trip on Redis)."""
        now = datetime.now(UTC)
        tats = [await self._tat(key, now) for key in keys]
        for tat in tats:
            self._refuse_if_used_up(tat, now)
        for key, tat in zip(keys, tats, strict=True):
            await self._use(key, tat, now)

    def _refuse_if_used_up(self, tat: datetime, now: datetime) -> None:
        wait = (tat - (self.window - self.interval)) - now
        if wait > timedelta(0):
            raise RateLimited(self.refusal, retry_after=max(1, math.ceil(wait.total_seconds())))

    async def _use(self, key: str, tat: datetime, now: datetime) -> None:
        await self.store.set(f"{self.prefix}:{key}", max(tat, now) + self.interval)

    async def _tat(self, key: str, now: datetime) -> datetime:
        tat = await self.store.get(f"{self.prefix}:{key}", now)
        if tat.tzinfo is None:
            tat = tat.astimezone(UTC)
        return tat


def login_keys(client_address: str, username: str) -> list[str]:
    """Failed sign-ins count per client address and per account."""
    return [f"login:addr:{client_address}", f"login:user:{username.lower()}"]


def report_keys(user_id: int) -> list[str]:
    """New tickets count per reporter, whichever page, script or worker they come through."""
    return [f"report:user:{user_id}"]


async def take_report_allowance(user: User) -> None:
    """Raise RateLimited when a reporter has opened too many tickets lately: a script or a stuck
    form must not flood every staff board. Staff log calls for others, so they are not counted."""
    if not user.is_staff:
        await services().report_throttle.take(report_keys(user.id))


def chat_keys(user_id: int) -> list[str]:
    """Messages count per person, whichever socket, tab or worker they come through."""
    return [f"chat:user:{user_id}"]


async def take_chat_allowance(user: User) -> None:
    """Raise RateLimited when someone sends messages faster than a person types, whether over
    the socket, the API or the page's form."""
    await services().chat_throttle.take(chat_keys(user.id))
