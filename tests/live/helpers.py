"""Reading frames from a socket until the one a test waits for arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Frame = dict[str, Any]


class FrameReader:
    """Wraps anything with `async receive()` (Quart's test socket or a websockets client)."""

    def __init__(self, socket: Any, timeout: float = 5.0) -> None:
        self.socket = socket
        self.timeout = timeout
        self.seen: list[Frame] = []

    async def _receive(self) -> str | bytes:
        if hasattr(self.socket, "receive"):
            return await self.socket.receive()
        return await self.socket.recv()

    async def next(self, wait: float | None = None) -> Frame:
        raw = await asyncio.wait_for(self._receive(), wait or self.timeout)
        frame = json.loads(raw)
        self.seen.append(frame)
        return frame

    async def until(self, match: Callable[[Frame], bool] | str, **fields: Any) -> Frame:
        """The first frame matching `match` (a type name or a predicate) and `fields`."""

        def wanted(frame: Frame) -> bool:
            if isinstance(match, str) and frame.get("type") != match:
                return False
            if callable(match) and not match(frame):
                return False
            return all(frame.get(key) == value for key, value in fields.items())

        while True:
            frame = await self.next()
            if wanted(frame):
                return frame

    async def nothing_more(self, within: float = 0.3) -> list[Frame]:
        """Frames that arrive within `within` seconds (expected: none)."""
        extra = []
        try:
            while True:
                extra.append(await self.next(within))
        except TimeoutError:
            return extra

    async def until_closed(self) -> Exception:
        """Read (keeping what arrives in `seen`) until the server closes; returns how it closed."""
        try:
            while True:
                await self.next()
        except Exception as closed:  # websockets' ConnectionClosed or Quart's disconnect error
            if isinstance(closed, TimeoutError):
                raise
            return closed

    async def send(self, frame: Frame | str | bytes) -> None:
        """A dict goes as JSON text; text and bytes go as they are (bytes: a binary frame)."""
        await self.socket.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def join(self, room: str, since: int | None = None) -> tuple[list[Frame], Frame]:
        """Join a room; returns the replayed events and the `joined` frame."""
        frame: Frame = {"op": "join", "room": room}
        if since is not None:
            frame["since"] = since
        await self.send(frame)
        replayed = []
        while True:
            got = await self.next()
            if got.get("type") == "joined" and got.get("room") == room:
                return replayed, got
            if got.get("type") == "error":
                raise AssertionError(f"join {room} refused: {got}")
            if got.get("type") == "event" and got.get("room") == room:
                replayed.append(got)


def events_of(frames: list[Frame], kind: str | None = None) -> list[Frame]:
    return [f for f in frames if f.get("type") == "event" and (kind is None or f["kind"] == kind)]
