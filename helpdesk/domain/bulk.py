"""One action on many tickets from the board: assigning a pile, closing duplicates as one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from ..errors import HelpdeskError
from ..models import Ticket, User
from .access import require_staff
from .events import EventLog
from .known_issues import merge
from .serialize import ticket_json
from .tickets import assign_ticket

Action = Literal["assign", "merge"]


async def apply_to_each(
    log: EventLog,
    user: User,
    ids: Sequence[int],
    action: Action,
    *,
    assignee_id: int | None = None,
    into: int | None = None,
) -> list[dict[str, Any]]:
    """Apply `action` to each ticket in its own transaction, through the same domain function
    as one at a time; a ticket refused (closed already, gone) is reported beside the others
    and stops nothing."""
    require_staff(user)
    results: list[dict[str, Any]] = []
    for ticket_id in ids:
        try:
            ticket: Ticket
            if action == "assign":
                ticket = await assign_ticket(log, user, ticket_id, assignee_id, None)
            else:
                assert into is not None  # the request schema asks for it
                ticket = await merge(log, user, ticket_id, into)
        except HelpdeskError as error:
            results.append({"id": ticket_id, "status": error.status, "error": error.to_json()})
        else:
            results.append({"id": ticket_id, "status": 200, "ticket": ticket_json(ticket)})
    return results
