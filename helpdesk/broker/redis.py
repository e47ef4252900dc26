"""The Redis broker: live events fan out to every process through Redis pub/sub.

Publishing never waits on Redis: messages go to a bounded queue that one task sends in order,
so requests keep their speed when Redis is slow or gone (what cannot be sent is dropped, and
clients recover it by replay). The subscription does not retry silently either: a broken
connection surfaces as BrokerUnavailable, so the hub knows there was a gap and can tell its
sockets to replay what they missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .base import Broker, BrokerUnavailable, Subscription

log = logging.getLogger(__name__)
OUTBOX_SIZE = 10_000
CONNECT_TIMEOUT = 2.0
RETRY_SECONDS = 1.0
# Check-and-set in one step on the server, so no other process can slip in between.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisBroker(Broker):
    def __init__(self, url: str, namespace: str = "helpdesk") -> None:
        super().__init__(namespace)
        self.url = url
        self.client = aioredis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            health_check_interval=10,
            retry=Retry(NoBackoff(), 0),  # never hide a lost connection behind a retry
        )
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(OUTBOX_SIZE)
        self._sender: asyncio.Task[None] | None = None
        self.dropped = 0

    async def connect(self) -> None:
        self._sender = asyncio.create_task(self._send_forever(), name="redis-publisher")

    async def disconnect(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        await self.client.aclose()

    async def publish(self, channel: str, message: str) -> None:
        try:
            self._outbox.put_nowait((channel, message))
        except asyncio.QueueFull:
            self.dropped += 1
            raise BrokerUnavailable("the Redis outbox is full") from None

    async def _send_forever(self) -> None:
        while True:
            channel, message = await self._outbox.get()
            try:
                await self.client.publish(channel, message)
            except (RedisError, OSError) as error:
                self.dropped += 1 + self._outbox.qsize()
                _drain(self._outbox)
                log.warning("Redis publish failed (%s); dropped what was queued", error)
                await asyncio.sleep(RETRY_SECONDS)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
        except (RedisError, OSError) as error:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()
            raise BrokerUnavailable(f"cannot subscribe to Redis: {error}") from error
        try:
            yield _messages(pubsub)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def claim(self, key: str, seconds: float) -> bool:
        try:
            return bool(await self.client.set(key, "1", nx=True, px=max(1, int(seconds * 1000))))
        except (RedisError, OSError) as error:
            raise BrokerUnavailable(str(error)) from error

    async def hold(self, key: str, owner: str, seconds: float) -> bool:
        try:
            held = await self.client.eval(_HOLD, 1, key, owner, max(1, int(seconds * 1000)))
        except (RedisError, OSError) as error:
            raise BrokerUnavailable(str(error)) from error
        return bool(held)

    async def release(self, key: str, owner: str) -> None:
        try:
            await self.client.eval(_RELEASE, 1, key, owner)
        except (RedisError, OSError) as error:
            raise BrokerUnavailable(str(error)) from error


async def _messages(pubsub: aioredis.client.PubSub) -> AsyncIterator[str]:
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                data = message["data"]
                yield data.decode() if isinstance(data, bytes) else data
    except (RedisError, OSError) as error:
        raise BrokerUnavailable(f"lost the Redis subscription: {error}") from error
    raise BrokerUnavailable("the Redis subscription ended")


def _drain(queue: asyncio.Queue[tuple[str, str]]) -> None:
    while not queue.empty():
        queue.get_nowait()
