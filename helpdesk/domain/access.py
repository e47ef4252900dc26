"""Who may see what: tickets and live rooms. What is not theirs is 'not found', not 'forbidden'."""

from __future__ import annotations

from ..errors import Forbidden, NotFound
from ..models import Role, Ticket, User
from ..sql import Database
from .events import BOARD_ROOM, KNOWN_ISSUES_ROOM
from .fields import in_id_range


def can_see_ticket(user: User, ticket: Ticket) -> bool:
    return user.is_staff or ticket.reporter_id == user.id


async def visible_ticket(
    user: User, ticket_id: int, *, with_people: bool = False, for_update: bool = False
) -> Ticket:
    """The ticket, or NotFound when it is missing or not the user's. `with_people` also loads
    its reporter and assignee (a join that doubles the cost of this, the chat's hottest query)."""
    if not in_id_range(ticket_id):
        raise NotFound("no such ticket")
    if with_people or for_update:
        query = Ticket.filter(id=ticket_id)
        if with_people:
            query = query.select_related("reporter", "assignee")
        if for_update:
            query = query.select_for_update(of=("ticket",), no_key=True)
        ticket = await query.first()
    else:
        ticket = await _ticket(ticket_id)
    if ticket is None or not can_see_ticket(user, ticket):
        raise NotFound("no such ticket")
    return ticket


async def _ticket(ticket_id: int) -> Ticket | None:
    """The plain row, read without Tortoise's query builder: building this one-row query took
    longer than running it, and every chat message asks for it."""
    rows = await Database().rows("SELECT * FROM ticket WHERE id = :id", id=ticket_id)
    return Ticket._init_from_db(**rows[0]) if rows else None


def require_staff(user: User) -> None:
    if not user.is_staff:
        raise Forbidden("this needs a helpdesk staff account")


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden("only admins manage accounts")


def parse_ticket_room(room: str) -> int | None:
    """The ticket id of a `ticket:<id>` room name, or None for any other name."""
    prefix, _, rest = room.partition(":")
    if prefix != "ticket" or not rest.isascii() or not rest.isdigit() or len(rest) > 19:
        return None
    ticket_id = int(rest)
    return ticket_id if in_id_range(ticket_id) else None


async def check_room(user: User, room: str) -> None:
    """Allow joining `room` or raise Forbidden; a missing ticket answers exactly like another's."""
    if room == BOARD_ROOM:
        if user.is_staff:
            return
        raise Forbidden("the board is for helpdesk staff")
    if room == f"user:{user.id}":
        return
    if room == KNOWN_ISSUES_ROOM:  # what is broken on campus: public to everyone signed in
        return
    ticket_id = parse_ticket_room(room)
    if ticket_id is not None:
        try:
            await visible_ticket(user, ticket_id)
        except NotFound:
            raise Forbidden(f"you cannot join {room}") from None
        return
    raise Forbidden(f"you cannot join {room}")
