"""The in-process broker: subscribers in this process only (one-process deployments, tests)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .base import Broker, Subscription


class MemoryBroker(Broker):
    def __init__(self, namespace: str = "helpdesk") -> None:
        super().__init__(namespace)
        self._queues: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._claims: dict[str, float] = {}
        self._leases: dict[str, tuple[str, float]] = {}

    async def claim(self, key: str, seconds: float) -> bool:
        now = time.monotonic()
        if self._claims.get(key, 0.0) > now:
            return False
        self._claims[key] = now + seconds
        return True

    async def hold(self, key: str, owner: str, seconds: float) -> bool:
        now = time.monotonic()
        holder, until = self._leases.get(key, (owner, 0.0))
        if holder != owner and until > now:
            return False
        self._leases[key] = (owner, now + seconds)
        return True

    async def release(self, key: str, owner: str) -> None:
        if self._leases.get(key, ("", 0.0))[0] == owner:
            del self._leases[key]

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._queues.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]


async def _drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()
