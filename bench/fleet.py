"""The load generator's sockets: one `Fleet` of websockets connections to a server, the rooms
they joined, and a `Recorder` that counts what each frame means for the interval measured.

Latency is measured from just before a `say` is sent to the moment the `message.created` event
reaches each *other* member of the ticket's room (and each staff socket on the board). The
sender's own copy and the reporter's `user:<id>` copy are counted but not timed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .config import COOKIE_NAME

CONNECT_CONCURRENCY = 64


BODY = "The projector in this lecture room keeps flickering; could someone take a look today?"


@dataclass(frozen=True)
class Target:
    kind: str  # "app" (cookies, real protocol) or "bare" (the websockets ceiling)
    ws_urls: list[str]
    http_urls: list[str]
    pids: list[int]
    deflate: bool = True  # offer permessage-deflate, as every browser does


@dataclass
class Sent:
    at: float
    sender: int
    expected: int


@dataclass
class Recorder:
    """What happened to the messages of one measured interval. Each delivery is counted once
    per (message, socket, room); a repeat is a duplicate, never a substitute for a lost one."""

    sent: dict[str, Sent] = field(default_factory=dict)
    seen: set[tuple[str, int, str]] = field(default_factory=set)
    acked_ids: set[str] = field(default_factory=set)
    ticket_latency: list[float] = field(default_factory=list)
    board_latency: list[float] = field(default_factory=list)
    by_second: dict[int, list[float]] = field(default_factory=dict)  # send second -> latencies
    errors: Counter = field(default_factory=Counter)
    expected: int = 0
    received: int = 0
    duplicates: int = 0
    echoes: int = 0
    user_copies: int = 0
    first_send: float = 0.0
    last_delivery: float = 0.0
    sending: bool = True
    done: asyncio.Event = field(default_factory=asyncio.Event)
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    def record_send(self, client_id: str, sender: int, expected: int, now: float) -> None:
        if not self.sent:
            self.first_send = now
        self.sent[client_id] = Sent(now, sender, expected)
        self.expected += expected

    @property
    def acks(self) -> int:
        return len(self.acked_ids)

    def on_event(self, socket: LiveSocket, frame: dict, now: float) -> None:
        client_id = frame["data"].get("client_id")
        sent = self.sent.get(client_id)
        if sent is None:
            return  # a late frame from an earlier interval
        room = frame["room"]
        key = (client_id, socket.index, room)
        if key in self.seen:
            self.duplicates += 1
            return
        self.seen.add(key)
        if room.startswith("user:"):
            self.user_copies += 1
        elif socket.index == sent.sender:
            self.echoes += 1
        else:
            latency = now - sent.at
            (self.ticket_latency if room.startswith("ticket:") else self.board_latency).append(
                latency
            )
            self.by_second.setdefault(int(sent.at - self.first_send), []).append(latency)
            self.received += 1
            self.last_delivery = now
            self._check()

    def on_ack(self, frame: dict) -> None:
        client_id = frame.get("client_id")
        if client_id in self.sent:
            if client_id in self.acked_ids:
                self.duplicates += 1
            self.acked_ids.add(client_id)
            self._check()

    def finish_sending(self) -> None:
        self.sending = False
        self._check()

    def _check(self) -> None:
        if self.sending:
            return
        if self.acks >= len(self.sent):
            self.acked.set()
            if self.received >= self.expected:
                self.done.set()


@dataclass(eq=False)
class LiveSocket:
    index: int
    user: int
    ws: ClientConnection
    reader: asyncio.Task | None = None


class Fleet:
    """The load generator's sockets to one server, and where their frames are counted."""

    def __init__(self, target: Target, cookies: dict[int, str]) -> None:
        self.target = target
        self.cookies = cookies
        self.sockets: list[LiveSocket] = []
        self.rooms: list[tuple[str, list[LiveSocket]]] = []
        self.board: list[LiveSocket] = []
        self.recorder: Recorder | None = None
        self.waiters: dict[str, asyncio.Future[dict]] = {}
        self.unexpected_closes: Counter = Counter()
        self.closing = False

    # --- connections -------------------------------------------------------------------------

    async def open(
        self, user: int, rooms: tuple[str, ...] = (), index: int | None = None
    ) -> LiveSocket:
        index = len(self.sockets) if index is None else index
        url = self.target.ws_urls[index % len(self.target.ws_urls)]
        headers = None
        if self.target.kind == "bare":
            url = f"{url}?user={user}"
        else:
            headers = {"Cookie": f"{COOKIE_NAME}={self.cookies[user]}"}
        ws = await connect(
            url,
            additional_headers=headers,
            open_timeout=60,
            ping_interval=None,
            compression="deflate" if self.target.deflate else None,
        )
        socket = LiveSocket(index, user, ws)
        self.sockets.append(socket)
        socket.reader = asyncio.create_task(self._read(socket))
        for room in rooms:
            await self.request(socket, {"op": "join", "room": room}, f"join:{index}:{room}")
        return socket

    async def open_many(self, specs: Sequence[tuple[int, tuple[str, ...]]]) -> list[LiveSocket]:
        """Open sockets concurrently (a bounded number of handshakes at a time), in order."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        first = len(self.sockets)

        async def one(offset: int, user: int, rooms: tuple[str, ...]) -> LiveSocket:
            async with gate:
                return await self.open(user, rooms, first + offset)

        return await asyncio.gather(
            *(one(offset, user, rooms) for offset, (user, rooms) in enumerate(specs))
        )

    async def open_layout(self, layout: dict[str, Any]) -> None:
        """One socket per room member (joined to the room), then the board's staff sockets."""
        specs = [
            (member, (f"ticket:{room['ticket_id']}",))
            for room in layout["rooms"]
            for member in room["members"]
        ]
        sockets = await self.open_many(specs + [(user, ("board",)) for user in layout["board"]])
        position = 0
        for room in layout["rooms"]:
            size = len(room["members"])
            self.rooms.append((f"ticket:{room['ticket_id']}", sockets[position : position + size]))
            position += size
        self.board = sockets[position:]

    async def close(self) -> None:
        self.closing = True
        await asyncio.gather(
            *(socket.ws.close() for socket in self.sockets), return_exceptions=True
        )
        readers = [socket.reader for socket in self.sockets if socket.reader is not None]
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        self.sockets.clear()

    async def request(self, socket: LiveSocket, frame: dict, key: str, within: float = 60) -> dict:
        """Send a frame and wait for the answer keyed `key` (an ack, joined, or error)."""
        future = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        try:
            await socket.ws.send(orjson.dumps(frame).decode())
            reply = await asyncio.wait_for(future, within)
        finally:
            self.waiters.pop(key, None)
        if reply.get("type") == "error" and key.startswith("join:"):
            raise RuntimeError(f"join refused: {reply}")
        return reply

    # --- frames ------------------------------------------------------------------------------

    async def _read(self, socket: LiveSocket) -> None:
        try:
            async for raw in socket.ws:
                self._dispatch(socket, raw, time.perf_counter())
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.unexpected_closes[str(socket.ws.close_code)] += 1

    def _dispatch(self, socket: LiveSocket, raw: str | bytes, now: float) -> None:
        frame = orjson.loads(raw)
        kind = frame.get("type")
        recorder = self.recorder
        if kind == "event":
            if recorder is not None and frame.get("kind") == "message.created":
                recorder.on_event(socket, frame, now)
        elif kind == "ack":
            if recorder is not None:
                recorder.on_ack(frame)
            self._resolve(frame.get("client_id"), frame)
        elif kind == "joined":
            self._resolve(f"join:{socket.index}:{frame.get('room')}", frame)
        elif kind == "error":
            if recorder is not None:
                recorder.errors[frame.get("code")] += 1
            client_id = frame.get("client_id")
            if client_id is None:  # a refused join carries no client id: fail this socket's joins
                for key in [k for k in self.waiters if k.startswith(f"join:{socket.index}:")]:
                    self._resolve(key, frame)
            self._resolve(client_id, frame)

    def _resolve(self, key: str | None, frame: dict) -> None:
        future = self.waiters.get(key) if key is not None else None
        if future is not None and not future.done():
            future.set_result(frame)


def say_frame(room: str, client_id: str) -> str:
    return f'{{"op":"say","room":"{room}","body":"{BODY}","client_id":"{client_id}"}}'
