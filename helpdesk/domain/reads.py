"""Read markers: how far each person has read a ticket, for unread counts and 'seen'."""

from __future__ import annotations

from functools import reduce
from operator import or_

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count

from ..encoding import isoformat
from ..errors import ValidationFailed
from ..models import Message, ReadMarker, Ticket, User, utcnow
from .access import visible_ticket
from .serialize import user_ref


async def mark_read(user: User, ticket_id: int, message_id: int) -> int | None:
    """Move the user's marker forward to `message_id`; returns it, or None if it did not move."""
    await visible_ticket(user, ticket_id)
    visible = Message.filter(id=message_id, ticket_id=ticket_id)
    if not user.is_staff:
        visible = visible.filter(internal=False)
    if not await visible.exists():
        raise ValidationFailed("no such message in this ticket", field="message_id")
    moved = await ReadMarker.filter(
        user_id=user.id, ticket_id=ticket_id, message_id__lt=message_id
    ).update(message_id=message_id, updated_at=utcnow())
    if moved:
        return message_id
    if await ReadMarker.exists(user_id=user.id, ticket_id=ticket_id):
        return None
    try:
        await ReadMarker.create(user_id=user.id, ticket_id=ticket_id, message_id=message_id)
    except IntegrityError:  # another tab of the same user got there first
        return await mark_read(user, ticket_id, message_id)
    return message_id


async def read_markers(user: User, ticket_id: int) -> list[dict]:
    """Everyone's marker on the ticket, for 'seen' (staff and the reporter see each other's)."""
    await visible_ticket(user, ticket_id)
    markers = await ReadMarker.filter(ticket_id=ticket_id).select_related("user").order_by("id")
    return [
        {"user": user_ref(m.user), "message_id": m.message_id, "at": isoformat(m.updated_at)}
        for m in markers
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
