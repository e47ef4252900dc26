"""This process's sockets and their rooms, fed by local changes directly and by other processes
through the broker. Each frame is serialized once and handed to every recipient as is.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable

from ..broker import Broker, BrokerUnavailable
from ..domain.events import LoggedEvent, user_room
from ..encoding import dumps, loads
from .connection import CloseCode, Connection

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1, 2, 5)


class Hub:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.channel = broker.key("live")
        self.node = uuid.uuid4().hex
        self._rooms: dict[str, set[Connection]] = defaultdict(set)
        self._connections: set[Connection] = set()
        self._by_user: dict[int, set[Connection]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        self.emptied = asyncio.Event()  # set while no socket is attached
        self.emptied.set()
        self._on_change: list[Callable[[], None]] = []

    # --- membership --------------------------------------------------------------------------

    def admit(self, connection: Connection, *, most: int) -> bool:
        """Attach the connection unless its user already has `most` sockets in this process.

        Checking and attaching in one step, with no await between, keeps a burst of handshakes
        from all passing the check before any of them is counted.
        """
        if len(self._by_user.get(connection.user.id, ())) >= most:
            return False
        self.attach(connection)
        return True

    def attach(self, connection: Connection) -> None:
        self._connections.add(connection)
        self._by_user[connection.user.id].add(connection)
        self.emptied.clear()
        self.join(connection, user_room(connection.user.id))

    def detach(self, connection: Connection) -> list[str]:
        """Forget the connection; returns the rooms it was in."""
        rooms = list(connection.rooms)
        for room in rooms:
            self.leave(connection, room)
        self._connections.discard(connection)
        same_user = self._by_user.get(connection.user.id)
        if same_user is not None:
            same_user.discard(connection)
            if not same_user:
                del self._by_user[connection.user.id]
        if not self._connections:
            self.emptied.set()
        return rooms

    def join(self, connection: Connection, room: str) -> None:
        self._rooms[room].add(connection)
        connection.rooms.add(room)

    def leave(self, connection: Connection, room: str) -> None:
        members = self._rooms.get(room)
        if members is not None:
            members.discard(connection)
            if not members:
                del self._rooms[room]
        connection.rooms.discard(room)

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever logged events that change tickets arrive, from this process
        or another (chat replies alone do not count: see `Change.tickets_changed`)."""
        self._on_change.append(listener)

    def _changed(self) -> None:
        for listener in self._on_change:
            listener()

    # --- delivery ----------------------------------------------------------------------------

    def _deliver(
        self,
        room: str,
        frame: str,
        *,
        staff_only: bool,
        event_id: int | None = None,
        skip: str | None = None,
    ) -> None:
        for connection in tuple(self._rooms.get(room, ())):
            if (staff_only and not connection.is_staff) or connection.id == skip:
                continue
            connection.deliver(room, frame, event_id)

    async def publish_events(self, events: list[LoggedEvent], *, tickets_changed: bool) -> None:
        """Deliver committed events here at once, then to the other processes."""
        for event in events:
            self._deliver(event.room, event.frame, staff_only=event.staff_only, event_id=event.id)
        if tickets_changed:
            self._changed()
        await self._send(
            {
                "t": "e",
                "e": [[e.room, e.staff_only, e.id, e.frame] for e in events],
                "c": tickets_changed,
            }
        )

    async def broadcast(
        self, room: str, frame: str, *, staff_only: bool = False, skip: str | None = None
    ) -> None:
        """Deliver a frame that is not logged (typing, presence, read markers)."""
        self._deliver(room, frame, staff_only=staff_only, skip=skip)
        await self._send({"t": "b", "r": room, "s": staff_only, "x": skip, "f": frame})

    async def disconnect(
        self,
        *,
        user_id: int | None = None,
        session_key: str | None = None,
        keep_session: str | None = None,
    ) -> None:
        """Close the sockets of a session or a user (all but `keep_session`), in every process."""
        self._disconnect(user_id, session_key, keep_session)
        await self._send({"t": "d", "u": user_id, "k": session_key, "keep": keep_session})

    def _disconnect(self, user_id: int | None, session_key: str | None, keep: str | None) -> None:
        for connection in tuple(self._connections):
            if connection.session_key == keep:
                continue
            if connection.user.id == user_id or connection.session_key == session_key:
                connection.close(CloseCode.SIGNED_OUT, "signed out")

    def close_all(self, code: CloseCode, reason: str) -> None:
        for connection in tuple(self._connections):
            connection.close(code, reason)

    # --- other processes ---------------------------------------------------------------------

    async def _send(self, message: dict) -> None:
        message["o"] = self.node
        try:
            await self.broker.publish(self.channel, dumps(message))
        except BrokerUnavailable as error:
            log.warning("broker unavailable, delivered locally only: %s", error)

    def _receive(self, raw: str) -> None:
        message = loads(raw)
        if message.get("o") == self.node:
            return
        kind = message.get("t")
        if kind == "e":
            for room, staff_only, event_id, frame in message["e"]:
                self._deliver(room, frame, staff_only=staff_only, event_id=event_id)
            if message.get("c", True):
                self._changed()
        elif kind == "b":
            self._deliver(message["r"], message["f"], staff_only=message["s"], skip=message["x"])
        elif kind == "d":
            self._disconnect(message["u"], message["k"], message["keep"])

    async def start(self, wait_seconds: float = 3.0) -> None:
        """Begin following the broker; serve anyway if it is not there yet (it is retried)."""
        self._listener = asyncio.create_task(self._listen(), name="hub-listener")
        try:
            await asyncio.wait_for(self.subscribed.wait(), wait_seconds)
        except TimeoutError:
            log.warning("starting without the broker; live updates stay local until it is back")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    async def _listen(self) -> None:
        """Follow the broker; after a gap, ask sockets to reconnect and replay what they missed."""
        failures = 0
        while True:
            try:
                async with self.broker.subscribe(self.channel) as messages:
                    if failures:
                        self.close_all(CloseCode.RESYNC, "live updates resumed; replay with since")
                    failures = 0
                    self.subscribed.set()
                    async for raw in messages:
                        try:
                            self._receive(raw)
                        except (ValueError, KeyError, TypeError):
                            log.exception("ignored a malformed broker message")
            except BrokerUnavailable as error:
                self.subscribed.clear()
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("broker unavailable (%s); retrying in %ss", error, delay)
                await asyncio.sleep(delay)
