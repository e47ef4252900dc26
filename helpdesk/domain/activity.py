"""Reading the event log back: the activity feed and the replay after a reconnect."""

from __future__ import annotations

import re
from typing import Any

from ..models import Event, User
from .events import BOARD_ROOM, LoggedEvent, user_room

# One line per kind of event, for the activity feed. `{a.b}` is the event data's field a.b, and
# `{a.b|text}` says what stands there when it is empty. The dashboard's script fills in the same
# lines for what arrives live (static/js/texts.js), so the two always read alike.
FEED_TEXTS = {
    "ticket.created": "New ticket: {title}",
    "ticket.updated": "Details edited: {title}",
    "ticket.status_changed": "{title} is now {to}",
    "ticket.assigned": "{title} assigned to {assignee.display_name|nobody}",
    "message.created": "{author.display_name}: {body}",
    "ticket.published": "{title} is listed as a known issue: {known_issue.public_title}",
    "ticket.withdrawn": "{title} is no longer listed as a known issue",
    "known_issue.update_posted": "{public_title}: {last_update.body}",
    "known_issue.status_changed": "{public_title} (a known issue) is now {status}",
}
FEED_LENGTH = 160
_FIELD = re.compile(r"\{([a-z_.]+)(?:\|([^}]*))?\}")


def _field(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def summarize(kind: str, data: dict[str, Any]) -> str:
    """One line saying what an event did, at most FEED_LENGTH characters; the kind itself for
    one the feed has no words for."""
    text = FEED_TEXTS.get(kind)
    if text is None:
        return kind
    line = _FIELD.sub(lambda found: str(_field(data, found[1]) or found[2] or ""), text)
    return line[:FEED_LENGTH]


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
