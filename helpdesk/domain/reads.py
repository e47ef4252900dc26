"""Read markers: how far each person has read a ticket, for unread counts and 'seen'.

What a reporter may learn of a marker is the last message they may see that it has passed, and
when it passed that message. A marker's `updated_at` therefore moves only when it passes such a
message; moving on over internal notes alone leaves it, so neither the notes' ids nor when staff
read them reach a reporter, over HTTP or the socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count

from ..encoding import dumps, isoformat
from ..errors import ValidationFailed
from ..models import Message, ReadMarker, Ticket, User, utcnow
from .access import visible_ticket
from .events import EventLog, ticket_room
from .serialize import user_ref


@dataclass(frozen=True, slots=True)
class _Moved:
    at: datetime
    passed_public: bool  # it passed a message the reporter may see: they are told too


async def mark_read(log: EventLog, user: User, ticket_id: int, message_id: int) -> None:
    """Move the user's marker forward to `message_id` and tell the ticket's room where it stands:
    staff the marker itself, the reporter only the last message they may see, if that moved."""
    await visible_ticket(user, ticket_id)
    internal = (
        await Message.filter(id=message_id, ticket_id=ticket_id)
        .first()
        .values_list("internal", flat=True)
    )
    if internal is None or (internal and not user.is_staff):
        raise ValidationFailed("no such message in this ticket", field="message_id")
    public = await _last_public(ticket_id, message_id) if internal else message_id
    moved = await _move(user, ticket_id, message_id, public)
    if moved is None:
        return
    room = ticket_room(ticket_id)
    if moved.passed_public and public is not None:
        await log.announce(room, read_frame(room, user, public, moved.at))
    if public != message_id:
        await log.announce(room, read_frame(room, user, message_id, moved.at), staff_only=True)


async def _move(user: User, ticket_id: int, message_id: int, public: int | None) -> _Moved | None:
    """Move the marker to `message_id`; None if it already stood there or beyond."""
    mine = ReadMarker.filter(user_id=user.id, ticket_id=ticket_id)
    now = utcnow()
    if public is not None and await mine.filter(message_id__lt=public).update(
        message_id=message_id, updated_at=now
    ):
        return _Moved(now, passed_public=True)
    if await mine.filter(message_id__lt=message_id).update(message_id=message_id):
        at = await mine.first().values_list("updated_at", flat=True)
        return _Moved(at, passed_public=False)
    if await mine.exists():
        return None
    try:
        await ReadMarker.create(
            user_id=user.id, ticket_id=ticket_id, message_id=message_id, updated_at=now
        )
    except IntegrityError:  # another tab of the same user got there first
        return await _move(user, ticket_id, message_id, public)
    return _Moved(now, passed_public=public is not None)


async def _last_public(ticket_id: int, message_id: int) -> int | None:
    """The newest message up to `message_id` that a reporter may see (not an internal note)."""
    return (
        await Message.filter(ticket_id=ticket_id, internal=False, id__lte=message_id)
        .order_by("-id")
        .first()
        .values_list("id", flat=True)
    )


def read_frame(room: str, user: User, message_id: int, at: datetime) -> str:
    """The live `read` frame: `user`'s marker in `room` stands at `message_id` since `at`."""
    return dumps(
        {
            "type": "read",
            "room": room,
            "user": user_ref(user),
            "message_id": message_id,
            "at": isoformat(at),
        }
    )


async def read_markers(user: User, ticket_id: int) -> list[dict]:
    """Everyone's marker on the ticket, for 'seen' (staff and the reporter see each other's);
    a reporter sees each at the last message they may see, and none that has passed none."""
    await visible_ticket(user, ticket_id)
    markers = await ReadMarker.filter(ticket_id=ticket_id).select_related("user").order_by("id")
    shown: dict[int, int | None] = {marker.message_id: marker.message_id for marker in markers}
    if not user.is_staff:
        notes = await Message.filter(id__in=list(shown), internal=True).values_list("id", flat=True)
        for note in notes:
            shown[note] = await _last_public(ticket_id, note)
    return [
        {"user": user_ref(m.user), "message_id": shown[m.message_id], "at": isoformat(m.updated_at)}
        for m in markers
        if shown[m.message_id] is not None
    ]


async def unread_counts(user: User, tickets: list[Ticket]) -> dict[int, int]:
    """Messages by others after the user's marker, per ticket; internal notes count for staff."""
    if not tickets:
        return {}
    ids = [ticket.id for ticket in tickets]
    markers = dict(
        await ReadMarker.filter(user_id=user.id, ticket_id__in=ids).values_list(
            "ticket_id", "message_id"
        )
    )
    after_marker = reduce(or_, (Q(ticket_id=i, id__gt=markers.get(i, 0)) for i in ids))
    query = Message.filter(after_marker).exclude(author_id=user.id)
    if not user.is_staff:
        query = query.filter(internal=False)
    rows = (
        await query.group_by("ticket_id")
        .annotate(unread=Count("id"))
        .values_list("ticket_id", "unread")
    )
    counts = dict.fromkeys(ids, 0)
    counts.update(dict(rows))
    return counts
