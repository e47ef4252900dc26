"""Group commit for chat messages: the messages that arrive while one transaction is being
written share the next one.

Storing a message takes six round trips to the database (begin, the message, its events, its
event id, the ticket's reply clock, commit), and SQLite runs them one at a time on its
connection's thread. Under load that queue, not the work, sets the pace; writing every waiting
message in one transaction makes the round trips per batch instead of per message. With one
message in flight a batch is that message alone, so a quiet helpdesk answers as fast as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass
from datetime import datetime

from ..encoding import dumps
from ..errors import Conflict
from ..models import Attachment, Message, Ticket, User, seconds_between
from ..sql import Database, named_rows
from .access import parse_ticket_room
from .attachments import claim
from .events import Change, EventLog, ticket_audience
from .serialize import message_json

log = logging.getLogger(__name__)
# Bounds one transaction's statements (7 bound values a message, 4 an event row) well inside
# SQLite's and PostgreSQL's limits, and how long one batch holds the write lock.
MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class Draft:
    """A message that passed the rules (see `post_message`) and waits to be stored."""

    author: User
    ticket: Ticket
    body: str
    internal: bool
    client_id: str | None
    attachments: tuple[Attachment, ...] = ()  # checked by `claimable`, claimed with the message

    @property
    def key(self) -> tuple[int, str] | None:
        """The idempotency key: one message per author and `client_id`."""
        return None if self.client_id is None else (self.author.id, self.client_id)


@dataclass(frozen=True)
class Posted:
    """A stored message and its `message.created` event in the ticket's room."""

    message: Message
    event_id: int
    duplicate: bool


class MessageWriter:
    """Stores drafts in batches, in the order they were handed in, one transaction a batch."""

    def __init__(self, event_log: EventLog) -> None:
        self._event_log = event_log
        self._waiting: list[tuple[Draft, asyncio.Future[Posted]]] = []
        self._writer: asyncio.Task[None] | None = None

    @property
    def event_log(self) -> EventLog:
        """The log its batches are written to, for a change that goes with a message."""
        return self._event_log

    async def write(self, draft: Draft) -> Posted:
        """Store `draft` with the next batch; the same `client_id` again returns the first one.

        A caller cancelled before its batch begins is left out; once the batch has begun, its
        message is stored all the same, and a retry with the same `client_id` finds it.
        """
        future: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
        self._waiting.append((draft, future))
        if self._writer is None:
            # It writes for every caller, so it runs in a context of its own, not in the
            # first caller's (its request, its socket, a transaction it might be in).
            self._writer = asyncio.create_task(
                self._write_waiting(), name="message-writer", context=contextvars.Context()
            )
        return await future

    async def _write_waiting(self) -> None:
        batch: list[tuple[Draft, asyncio.Future[Posted]]] = []
        try:
            while self._waiting:
                batch = [item for item in self._waiting[:MAX_BATCH] if not item[1].done()]
                del self._waiting[:MAX_BATCH]
                await self._write_batch(batch)
        except BaseException:  # cancelled (shutdown): no caller may wait forever
            for _, future in batch + self._waiting:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[Draft, asyncio.Future[Posted]]]) -> None:
        if not batch:
            return
        try:
            stored = await self._store([draft for draft, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error=error)
                return
            # One message may be what the database refused: alone, each gets its own answer.
            log.warning("a batch of %d messages failed (%s); storing each alone", len(batch), error)
            for item in batch:
                await self._write_batch([item])
            return
        for (draft, future), posted in zip(batch, stored, strict=True):
            if posted is not None:
                _settle(future, result=posted)
                continue
            try:  # its client_id was used before: answer with the first message
                _settle(future, result=await _previous(draft))
            except Exception as error:
                _settle(future, error=error)

    async def _store(self, drafts: list[Draft]) -> list[Posted | None]:
        """One transaction for all; None for a draft whose `client_id` was already used."""
        async with self._event_log.change() as change:
            db = Database(change.connection)
            stored = await _insert_messages(db, drafts, change.now)
            written = [(d, m) for d, m in zip(drafts, stored, strict=True) if m is not None]
            for draft, message in written:
                await claim(
                    change.connection,
                    draft.attachments,
                    ticket_id=draft.ticket.id,
                    message_id=message.id,
                    internal=draft.internal,
                    now=change.now,
                )
            for draft, message in written:
                rooms = ticket_audience(draft.ticket, staff_only=draft.internal)
                data = message_json(message)
                change.emit(rooms, "message.created", data, staff_only=draft.internal)
            # Each message has exactly one event in a ticket's room, its own, in emitted order.
            in_ticket_rooms = iter(
                event for event in await change.flush() if parse_ticket_room(event.room)
            )
            posted = {}
            for _, message in written:
                event_id = next(in_ticket_rooms).id
                message.event_id = event_id
                posted[message.id] = Posted(message, event_id, duplicate=False)
            await _record_event_ids(db, [message for _, message in written])
            await _touch_tickets(db, [draft for draft, _ in written], change)
        return [None if message is None else posted[message.id] for message in stored]


def _settle(
    future: asyncio.Future[Posted], *, result: Posted | None = None, error: Exception | None = None
) -> None:
    if future.done():  # its caller went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def _insert_messages(
    db: Database, drafts: list[Draft], now: datetime
) -> list[Message | None]:
    """One multi-row INSERT; a `client_id` already used (before, or earlier in this batch) is
    skipped by the unique index rather than looked up first, since a retry is rare."""
    seen: set[tuple[int, str]] = set()
    fresh: list[Draft] = []
    for draft in drafts:
        if draft.key is None or draft.key not in seen:
            fresh.append(draft)
            if draft.key is not None:
                seen.add(draft.key)
    placeholders, params = named_rows(
        [(d.ticket.id, d.author.id, d.body, d.internal, d.client_id, _described(d)) for d in fresh],
        "m",
    )
    values = ", ".join(f"({each}, :now)" for each in placeholders)
    rows = await db.rows(
        "INSERT INTO message "  # noqa: S608
        "(ticket_id, author_id, body, internal, client_id, attachments, created_at) "
        f"VALUES {values} "  # placeholders only: every value is bound
        "ON CONFLICT (author_id, client_id) DO NOTHING RETURNING id, author_id, client_id",
        now=now,
        **params,
    )
    inserted_keys = {(row["author_id"], row["client_id"]) for row in rows if row["client_id"]}
    inserted = [d for d in fresh if d.key is None or d.key in inserted_keys]
    # Ids are handed out in row order within the statement, so sorted ids match the rows.
    ids = iter(sorted(int(row["id"]) for row in rows))
    by_draft = {
        id(draft): Message(
            id=next(ids),
            ticket_id=draft.ticket.id,
            author=draft.author,
            body=draft.body,
            internal=draft.internal,
            client_id=draft.client_id,
            attachments=[each.describe() for each in draft.attachments] or None,
            created_at=now,
        )
        for draft in inserted
    }
    return [by_draft.get(id(draft)) for draft in drafts]


def _described(draft: Draft) -> str | None:
    """The message's `attachments` column: JSON text, as Tortoise's JSONField keeps it."""
    return dumps([each.describe() for each in draft.attachments]) if draft.attachments else None


async def _record_event_ids(db: Database, messages: list[Message]) -> None:
    """Each message keeps its event's id, so a retried `client_id` can be acked with it."""
    if not messages:
        return
    ids, id_params = named_rows([(message.id,) for message in messages], "m")
    events, event_params = named_rows([(message.event_id,) for message in messages], "e")
    cases = " ".join(f"WHEN {m} THEN CAST({e} AS BIGINT)" for m, e in zip(ids, events, strict=True))
    await db.execute(
        f"UPDATE message SET event_id = CASE id {cases} END "  # noqa: S608
        f"WHERE id IN ({', '.join(ids)})",  # placeholders only: every value is bound
        **id_params,
        **event_params,
    )


async def _touch_tickets(db: Database, drafts: list[Draft], change: Change) -> None:
    """Messages do not bump a ticket's version; they keep the reply clocks the board and the
    analytics read. Only a first staff reply changes a ticket's figures."""
    replied = dict.fromkeys(draft.ticket.id for draft in drafts if not draft.internal)
    change.tickets_changed = False
    if not replied:
        return
    placeholders, ids = named_rows([(ticket_id,) for ticket_id in replied], "t")
    await db.execute(
        "UPDATE ticket SET last_message_at = :now "  # noqa: S608
        f"WHERE id IN ({', '.join(placeholders)})",  # placeholders only: every value is bound
        now=change.now,
        **ids,
    )
    answered: set[int] = set()
    for draft in drafts:
        ticket = draft.ticket
        first = draft.author.is_staff and not draft.internal and ticket.first_response_at is None
        if not first or ticket.id in answered:
            continue
        # Read before the transaction, so another reply may have come first: COALESCE keeps it.
        await db.execute(
            "UPDATE ticket SET first_response_at = COALESCE(first_response_at, :now), "
            "first_response_seconds = COALESCE(first_response_seconds, :waited) WHERE id = :id",
            now=change.now,
            waited=seconds_between(change.now, ticket.created_at),
            id=ticket.id,
        )
        answered.add(ticket.id)
        change.tickets_changed = True


async def _previous(draft: Draft) -> Posted:
    """The message first stored with the draft's `client_id`."""
    assert draft.client_id is not None
    posted = await previous_post(draft.author, draft.ticket, draft.client_id)
    if posted is None:
        raise Conflict("that client_id was already used for another message", field="client_id")
    return posted


async def previous_post(author: User, ticket: Ticket, client_id: str) -> Posted | None:
    """The message `author` already stored with `client_id`, or None; a client_id used on
    another ticket is a conflict."""
    message = await Message.get_or_none(author_id=author.id, client_id=client_id)
    if message is None:
        return None
    if message.ticket_id != ticket.id or message.event_id is None:
        raise Conflict("that client_id was already used for another message", field="client_id")
    message.author = author
    return Posted(message, message.event_id, duplicate=True)
