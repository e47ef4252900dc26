"""Reading the event log back: the activity feed and the replay after a reconnect."""

from __future__ import annotations

from ..models import Event, User
from .events import BOARD_ROOM, LoggedEvent, user_room


def _visible(room: str, user: User):
    query = Event.filter(room=room)
    return query if user.is_staff else query.filter(staff_only=False)


async def recent_activity(user: User, limit: int) -> list[LoggedEvent]:
    """Newest first: the board's events for staff, a reporter's own notifications otherwise."""
    room = BOARD_ROOM if user.is_staff else user_room(user.id)
    rows = await _visible(room, user).order_by("-id").limit(limit)
    return [LoggedEvent.from_row(row) for row in rows]


async def events_after(user: User, room: str, since: int, limit: int) -> list[LoggedEvent]:
    """Oldest first, the room's events with id > since that this user may see (authorize first)."""
    rows = await _visible(room, user).filter(id__gt=since).order_by("id").limit(limit)
    return [LoggedEvent.from_row(row) for row in rows]


async def last_event_id(user: User, room: str) -> int:
    """The newest id in the room this user may see: where their next replay should start."""
    ids = await _visible(room, user).order_by("-id").limit(1).values_list("id", flat=True)
    return int(ids[0]) if ids else 0
