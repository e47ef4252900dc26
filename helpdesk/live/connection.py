"""One open socket: who it is, which rooms it is in, and its bounded outbox."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from enum import IntEnum

from ..models import User


class CloseCode(IntEnum):
    GOING_AWAY = 1001  # the server is shutting down: reconnect
    POLICY = 1008  # kept flooding after rate_limited errors
    TOO_BIG = 1009  # a frame over the size limit
    RESYNC = 1012  # the broker had a gap: reconnect and replay with `since`
    TOO_SLOW = 1013  # the outbox overflowed: reconnect and replay with `since`
    SIGNED_OUT = 4401  # the session ended (logout, password change, deactivation): sign in again


@dataclass
class TokenBucket:
    """`rate` frames per second on average, bursts up to `burst`."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Connection:
    """A socket's server-side state. Delivery never blocks: a full outbox closes the socket instead,
    so one slow client costs at most `queue_size` frames of memory.
    """

    def __init__(self, user: User, session_key: str, *, queue_size: int) -> None:
        self.id = uuid.uuid4().hex
        self.user = user
        self.session_key = session_key
        self.rooms: set[str] = set()
        self.close_code: CloseCode | None = None
        self.close_reason = ""
        self._queue_size = queue_size
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self._buffers: dict[str, list[tuple[int, str]]] = {}

    @property
    def is_staff(self) -> bool:
        return self.user.is_staff

    def deliver(self, room: str, frame: str, event_id: int | None = None) -> None:
        """Queue a frame; a logged event for a room being replayed waits in that room's buffer."""
        if self.close_code is not None:
            return
        buffer = self._buffers.get(room)
        if buffer is not None and event_id is not None:
            if len(buffer) >= self._queue_size:
                self.close(CloseCode.TOO_SLOW, "too far behind; reconnect with since")
                return
            buffer.append((event_id, frame))
            return
        self.send(frame)

    def send(self, frame: str) -> None:
        if self.close_code is not None:
            return
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CloseCode.TOO_SLOW, "too far behind; reconnect with since")

    def start_buffering(self, room: str) -> None:
        self._buffers[room] = []

    def stop_buffering(self, room: str, replayed_up_to: int) -> int:
        """Queue what arrived during the replay and is newer than it; returns the newest id sent."""
        newest = replayed_up_to
        for event_id, frame in self._buffers.pop(room, []):
            if event_id > newest:
                self.send(frame)
                newest = event_id
        return newest

    def close(self, code: CloseCode, reason: str) -> None:
        """Ask the sender to close the socket with `code`, once.

        What is queued is still sent first, except for a client too slow to take it or a session
        that has ended (nothing more may reach a signed-out browser).
        """
        if self.close_code is not None:
            return
        self.close_code = code
        self.close_reason = reason
        if code in (CloseCode.TOO_SLOW, CloseCode.SIGNED_OUT) or self._outbox.full():
            while not self._outbox.empty():
                self._outbox.get_nowait()
        self._outbox.put_nowait(None)

    async def next_frame(self) -> str | None:
        """The next frame to send, or None when the socket is to be closed."""
        return await self._outbox.get()
