"""Who is viewing each ticket room right now, as a set of (connection, user) per room."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

Viewer = dict[str, Any]


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
