"""The event log: every change clients see live is written here in the change's own transaction,
then handed to the live layer once that transaction has committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ..encoding import dumps, isoformat
from ..models import Event, Ticket, utcnow
from ..sql import Database, named_rows

BOARD_ROOM = "board"
KNOWN_ISSUES_ROOM = "known-issues"  # everyone signed in: known issues' public view only
# Serializes event inserts on PostgreSQL until commit, so ids become visible in id order and a
# client that replays from its last id can never skip an event committed later with a smaller id.
_EVENT_LOCK_KEY = 7_245_001


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A committed event; `frame` is its wire form, built once for all recipients."""

    id: int
    room: str
    kind: str
    data: str
    staff_only: bool
    at: str
    frame: str

    @classmethod
    def of(
        cls, event_id: int, room: str, kind: str, data: str, staff_only: bool, at: str
    ) -> LoggedEvent:
        return cls(
            event_id, room, kind, data, staff_only, at, event_frame(event_id, room, kind, data, at)
        )

    @classmethod
    def from_row(cls, row: Event) -> LoggedEvent:
        at = isoformat(row.created_at) or ""
        return cls.of(row.id, row.room, row.kind, row.data, row.staff_only, at)


def event_frame(event_id: int, room: str, kind: str, data: str, at: str) -> str:
    """The server-to-client event frame; `data` is already JSON text so it is never re-encoded."""
    return (
        f'{{"type":"event","id":{event_id},"room":{dumps(room)},"kind":{dumps(kind)},'
        f'"data":{data},"at":{dumps(at)}}}'
    )


@dataclass
class _Pending:
    rooms: tuple[str, ...]
    kind: str
    data: str
    staff_only: bool


class Publisher(Protocol):
    async def __call__(self, events: list[LoggedEvent], *, tickets_changed: bool) -> None: ...


class Announcer(Protocol):
    async def __call__(self, room: str, frame: str, *, staff_only: bool) -> None: ...


async def _discard(_events: list[LoggedEvent], *, tickets_changed: bool) -> None:
    return None


async def _unheard(_room: str, _frame: str, *, staff_only: bool) -> None:
    return None


class EventLog:
    """Runs a change and its events in one transaction; publishes only what committed.

    It is also the domain's one way to the live layer for frames that are state, not history
    (where a read marker stands): those are announced, never logged, since joining a room sends
    the state afresh and a replay of every step would only repeat it.
    """

    def __init__(self, publish: Publisher = _discard, announce: Announcer = _unheard) -> None:
        self._publish = publish
        self._announce = announce

    def connect(self, publish: Publisher) -> None:
        self._publish = publish

    async def announce(self, room: str, frame: str, *, staff_only: bool = False) -> None:
        """Hand a frame that is not logged to everyone in `room` (only staff: `staff_only`)."""
        await self._announce(room, frame, staff_only=staff_only)

    @asynccontextmanager
    async def change(self) -> AsyncIterator[Change]:
        async with in_transaction("default") as connection:
            change = Change(connection=connection, now=utcnow())
            yield change
            await change.flush()
        if change.written:
            await self._publish(change.written, tickets_changed=change.tickets_changed)


@dataclass
class Change:
    """One domain operation in progress: its connection, its clock and the events it emits."""

    connection: BaseDBAsyncClient
    now: datetime
    # False when no ticket's figures moved (a reply after the first response): what counts
    # tickets, such as the analytics, then need not look again.
    tickets_changed: bool = True
    written: list[LoggedEvent] = field(default_factory=list)
    _pending: list[_Pending] = field(default_factory=list)
    _locked: bool = False

    def emit(
        self, rooms: Iterable[str], kind: str, data: dict[str, Any], *, staff_only: bool = False
    ) -> None:
        self._pending.append(_Pending(tuple(dict.fromkeys(rooms)), kind, dumps(data), staff_only))

    async def flush(self) -> list[LoggedEvent]:
        """Write the emitted events now (their ids are needed before commit); returns them.

        One multi-row INSERT: each statement in a transaction is a round trip to the database
        while every other writer waits, so a change writes all its rows at once.
        """
        if not self._pending:
            return []
        if not self._locked and self.connection.capabilities.dialect == "postgres":
            await self.connection.execute_query(
                "SELECT pg_advisory_xact_lock($1)", [_EVENT_LOCK_KEY]
            )
            self._locked = True
        rows = [(room, pending) for pending in self._pending for room in pending.rooms]
        placeholders, params = named_rows(
            [(room, pending.kind, pending.data, pending.staff_only) for room, pending in rows], "e"
        )
        values = ", ".join(f"({each}, :at)" for each in placeholders)
        inserted = await Database(self.connection).rows(
            "INSERT INTO event (room, kind, data, staff_only, created_at) "  # noqa: S608
            f"VALUES {values} RETURNING id",  # placeholders only: every value is bound
            at=self.now,
            **params,
        )
        # Under the write lock ids are handed out in row order, so sorted ids match the rows.
        ids = sorted(int(row["id"]) for row in inserted)
        at = isoformat(self.now) or ""
        flushed = [
            LoggedEvent.of(event_id, room, pending.kind, pending.data, pending.staff_only, at)
            for event_id, (room, pending) in zip(ids, rows, strict=True)
        ]
        self._pending.clear()
        self.written.extend(flushed)
        return flushed


def ticket_audience(ticket: Ticket, *, staff_only: bool = False) -> list[str]:
    """Where a change to `ticket` is logged: its room, the board, and the people on it."""
    rooms = [ticket_room(ticket.id), BOARD_ROOM]
    if not staff_only:
        rooms.append(user_room(ticket.reporter_id))
    if ticket.assignee_id is not None:
        rooms.append(user_room(ticket.assignee_id))
    return rooms
