"""A ticket's conversation: public replies and staff-only internal notes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Coalesce

from ..errors import Conflict, Forbidden
from ..models import Message, Status, Ticket, User, seconds_between
from .access import visible_ticket
from .events import Change, EventLog, ticket_audience, ticket_room
from .serialize import message_json

MESSAGE_PAGE = 200


@dataclass(frozen=True)
class Posted:
    """A stored message and its `message.created` event in the ticket's room."""

    message: Message
    event_id: int
    duplicate: bool


async def _previous(author: User, client_id: str | None, ticket_id: int) -> Posted | None:
    if client_id is None:
        return None
    message = await Message.get_or_none(author_id=author.id, client_id=client_id)
    if message is None:
        return None
    if message.ticket_id != ticket_id or message.event_id is None:
        raise Conflict("that client_id was already used for another message", field="client_id")
    message.author = author
    return Posted(message, message.event_id, duplicate=True)


async def post_message(
    log: EventLog,
    author: User,
    ticket_id: int,
    body: str,
    *,
    internal: bool = False,
    client_id: str | None = None,
) -> Posted:
    """Store a message and its events; the same `client_id` again returns the first one.

    A retry is rare, so it is found by the unique (author, client_id) index refusing the insert,
    rather than by a lookup before every message.
    """
    ticket = await visible_ticket(author, ticket_id)
    if internal and not author.is_staff:
        raise Forbidden("only staff may write internal notes", field="internal")
    if not author.is_staff and ticket.status == Status.CLOSED:
        raise Conflict("this ticket is closed; reopen it to continue the conversation")
    try:
        async with log.change() as change:
            message = await Message.create(
                ticket_id=ticket_id,
                author=author,
                body=body,
                internal=internal,
                client_id=client_id,
                created_at=change.now,
                using_db=change.connection,
            )
            message.author = author
            rooms = ticket_audience(ticket, staff_only=internal)
            change.emit(rooms, "message.created", message_json(message), staff_only=internal)
            flushed = await change.flush()
            message.event_id = next(e.id for e in flushed if e.room == ticket_room(ticket_id))
            await (
                Message.filter(id=message.id)
                .using_db(change.connection)
                .update(event_id=message.event_id)
            )
            await _touch_ticket(ticket, author, internal, change)
    except IntegrityError:
        previous = await _previous(author, client_id, ticket_id)
        if previous is None:
            raise
        return previous
    assert message.event_id is not None
    return Posted(message, message.event_id, duplicate=False)


async def _touch_ticket(ticket: Ticket, author: User, internal: bool, change: Change) -> None:
    """Messages do not bump the version; they keep the reply clocks the board and analytics read.
    The first public staff reply also sets the first response, in the same statement."""
    first_response = author.is_staff and not internal and ticket.first_response_at is None
    change.tickets_changed = first_response
    if internal:
        return
    updates: dict[str, Any] = {"last_message_at": change.now}
    if author.is_staff:
        waited = seconds_between(change.now, ticket.created_at)
        updates["first_response_at"] = Coalesce("first_response_at", change.now)
        updates["first_response_seconds"] = Coalesce("first_response_seconds", waited)
    await Ticket.filter(id=ticket.id).using_db(change.connection).update(**updates)


async def list_messages(
    user: User, ticket_id: int, *, after: int | None = None, limit: int = MESSAGE_PAGE
) -> tuple[list[Message], bool]:
    """Oldest first, after message id `after`; reporters never see internal notes."""
    await visible_ticket(user, ticket_id)
    query = Message.filter(ticket_id=ticket_id).select_related("author")
    if not user.is_staff:
        query = query.filter(internal=False)
    if after is not None:
        query = query.filter(id__gt=after)
    rows = await query.order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit
