"""Who is viewing each ticket room right now, as a set of (connection, user) per room."""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

from redis.exceptions import RedisError

from ..encoding import dumps, loads

Viewer = dict[str, Any]
PRESENCE_TTL = 30.0


def distinct_viewers(entries: list[Viewer]) -> list[Viewer]:
    """One entry per user however many tabs they have open, in a stable order."""
    by_user = {entry["id"]: entry for entry in entries}
    return sorted(by_user.values(), key=lambda viewer: (viewer["display_name"], viewer["id"]))


class PresenceStore(ABC):
    @abstractmethod
    async def enter(self, room: str, connection_id: str, viewer: Viewer) -> list[Viewer]:
        """Add a connection to the room; returns who is viewing now."""

    @abstractmethod
    async def leave(self, room: str, connection_id: str) -> list[Viewer]:
        """Remove a connection from the room; returns who is still viewing."""

    @abstractmethod
    async def viewers(self, room: str) -> list[Viewer]:
        """Who is viewing the room now, in any process (mail is not sent for what they saw)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the store holds for this process."""


class LocalPresence(PresenceStore):
    """Presence for one process (the memory broker)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, Viewer]] = defaultdict(dict)

    async def enter(self, room: str, connection_id: str, viewer: Viewer) -> list[Viewer]:
        self._rooms[room][connection_id] = viewer
        return distinct_viewers(list(self._rooms[room].values()))

    async def leave(self, room: str, connection_id: str) -> list[Viewer]:
        viewers = self._rooms.get(room, {})
        viewers.pop(connection_id, None)
        if not viewers:
            self._rooms.pop(room, None)
        return distinct_viewers(list(viewers.values()))

    async def viewers(self, room: str) -> list[Viewer]:
        return distinct_viewers(list(self._rooms.get(room, {}).values()))


class RedisPresence(PresenceStore):
    """Presence shared by every process: a Redis hash per room, one field per connection.

    Each entry carries an expiry that its process renews while it runs, so a process that dies
    without saying goodbye stops counting as viewing within PRESENCE_TTL seconds.
    """

    def __init__(self, client: Any, prefix: str, ttl: float = PRESENCE_TTL) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self._mine: dict[tuple[str, str], Viewer] = {}
        self._renewer: asyncio.Task[None] | None = None

    def _key(self, room: str) -> str:
        return f"{self.prefix}:{room}"

    async def _write(self, room: str, connection_id: str, viewer: Viewer) -> None:
        entry = dumps({"viewer": viewer, "until": time.time() + self.ttl})
        await self.client.hset(self._key(room), connection_id, entry)
        await self.client.expire(self._key(room), int(self.ttl * 2))

    async def _viewers(self, room: str) -> list[Viewer]:
        now = time.time()
        viewers, stale = [], []
        for field, raw in (await self.client.hgetall(self._key(room))).items():
            entry = loads(raw)
            if entry["until"] < now:
                stale.append(field)
            else:
                viewers.append(entry["viewer"])
        if stale:
            await self.client.hdel(self._key(room), *stale)
        return distinct_viewers(viewers)

    async def enter(self, room: str, connection_id: str, viewer: Viewer) -> list[Viewer]:
        self._mine[(room, connection_id)] = viewer
        self._start_renewing()
        try:
            await self._write(room, connection_id, viewer)
            return await self._viewers(room)
        except (RedisError, OSError):
            return [viewer]  # Redis is away: at least show the viewer themselves

    async def leave(self, room: str, connection_id: str) -> list[Viewer]:
        self._mine.pop((room, connection_id), None)
        try:
            await self.client.hdel(self._key(room), connection_id)
            return await self._viewers(room)
        except (RedisError, OSError):
            return []

    async def viewers(self, room: str) -> list[Viewer]:
        try:
            return await self._viewers(room)
        except (RedisError, OSError):
            return []  # unknown: better a mail too many than a reply missed

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew(), name="presence-renewer")

    async def _renew(self) -> None:
        while self._mine:
            await asyncio.sleep(self.ttl / 3)
            for (room, connection_id), viewer in list(self._mine.items()):
                with contextlib.suppress(RedisError, OSError):
                    await self._write(room, connection_id, viewer)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        for room, connection_id in list(self._mine):
            with contextlib.suppress(RedisError, OSError):
                await self.client.hdel(self._key(room), connection_id)
        self._mine.clear()
