"""Allowances: how often one person or one client address may do a thing.

Counted by the `limits` library in fixed windows. When the broker is Redis, every worker shares
the counts, and each use is one atomic INCR that also sets the key's expiry, so concurrent
requests can never all slip past a check, and no key outlives its window. While Redis is
unreachable this process's memory counts instead, so an outage neither lifts the limits nor
turns requests into errors.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from .errors import RateLimited

log = logging.getLogger(__name__)
REDIS_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


class Counts:
    """Where the counts live: Redis shared by every worker, or this process's memory."""

    def __init__(self, broker_url: str, namespace: str) -> None:
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.shared: FixedWindowRateLimiter | None = None
        if broker_url.startswith(("redis://", "rediss://")):
            storage = RedisStorage(
                f"async+{broker_url}",
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=f"{namespace}:limits",
                **REDIS_TIMEOUTS,
            )
            self.shared = FixedWindowRateLimiter(storage)

    async def hit(self, item: RateLimitItem, key: str) -> tuple[bool, FixedWindowRateLimiter]:
        """Use one; returns whether it was within the allowance, and which counter counted it."""
        if self.shared is not None:
            try:
                return await self.shared.hit(item, key), self.shared
            except StorageError as error:
                log.warning("allowances counted locally while Redis is away: %s", error)
        return await self.local.hit(item, key), self.local

    async def seconds_left(
        self, limiter: FixedWindowRateLimiter, item: RateLimitItem, key: str
    ) -> int:
        try:
            stats = await limiter.get_window_stats(item, key)
        except StorageError:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))


@dataclass(frozen=True)
class Taken:
    """What `Allowance.take` used, so a caller can give it back (a sign-in that succeeded)."""

    uses: tuple[tuple[FixedWindowRateLimiter, str], ...]


class Allowance:
    """At most `count` uses per `window_seconds` for each key."""

    def __init__(self, counts: Counts, name: str, count: int, window_seconds: int, refusal: str):
        self.counts = counts
        self.name = name
        self.item = RateLimitItemPerSecond(count, window_seconds)
        self.refusal = refusal

    async def take(self, *keys: str) -> Taken:
        """Use one of every key's allowance, or raise RateLimited having used none of them."""
        uses: list[tuple[FixedWindowRateLimiter, str]] = []
        for key in keys:
            scoped = f"{self.name}:{key}"
            within, limiter = await self.counts.hit(self.item, scoped)
            uses.append((limiter, scoped))
            if not within:
                retry_after = await self.counts.seconds_left(limiter, self.item, scoped)
                await self.give_back(Taken(tuple(uses)))
                raise RateLimited(self.refusal, retry_after=retry_after)
        return Taken(tuple(uses))

    async def give_back(self, taken: Taken) -> None:
        """Return uses that should not count (a correct password is not a guess)."""
        for limiter, scoped in taken.uses:
            try:
                await limiter.storage.incr(
                    self.item.key_for(scoped), self.item.get_expiry(), amount=-1
                )
            except StorageError as error:  # the use expires with its window all the same
                log.warning("could not give back a use of %s: %s", self.name, error)


@dataclass(frozen=True)
class Allowances:
    """Every allowance of the app, built once from the settings."""

    login: Allowance  # failed sign-ins, per client address and per account
    password_check: Allowance  # wrong current passwords, per account
    registration: Allowance  # new accounts, per client address
    chat: Allowance  # messages, per person
    report: Allowance  # new tickets, per reporter
    account_mail: Allowance  # password resets and confirmation links, per address and account
    upload: Allowance  # files, per person

    @classmethod
    def build(
        cls,
        broker_url: str,
        namespace: str,
        *,
        login_max_failures: int,
        login_window_seconds: int,
        registrations_per_hour: int,
        chat_messages: int,
        chat_window_seconds: int,
        reports_per_hour: int,
        account_mails_per_hour: int,
        uploads_per_hour: int,
    ) -> Allowances:
        counts = Counts(broker_url, namespace)
        return cls(
            login=Allowance(
                counts,
                "login",
                login_max_failures,
                login_window_seconds,
                "too many failed sign-ins; wait a moment and try again",
            ),
            password_check=Allowance(
                counts,
                "password-check",
                login_max_failures,
                login_window_seconds,
                "too many wrong passwords; wait a moment and try again",
            ),
            registration=Allowance(
                counts,
                "register",
                registrations_per_hour,
                3600,
                "many accounts were made from this address lately; try again later",
            ),
            chat=Allowance(
                counts,
                "chat",
                chat_messages,
                chat_window_seconds,
                "you are sending messages too fast; wait a moment",
            ),
            report=Allowance(
                counts,
                "report",
                reports_per_hour,
                3600,
                "you have reported many issues in the last hour; wait a while, "
                "or add to one of them",
            ),
            account_mail=Allowance(
                counts,
                "account-mail",
                account_mails_per_hour,
                3600,
                "many sign-in mails were asked for lately; check your inbox or try again later",
            ),
            upload=Allowance(
                counts,
                "upload",
                uploads_per_hour,
                3600,
                "you have uploaded many files in the last hour; wait a while and try again",
            ),
        )
