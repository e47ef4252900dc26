"""The staff board: open, active and recently closed tickets in three columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue

from ..domain import tickets as ticket_rules
from ..domain.access import require_staff
from ..domain.accounts import active_staff
from ..domain.activity import last_event_id
from ..domain.events import BOARD_ROOM
from ..domain.labels import CATEGORY_LABELS
from ..domain.serialize import ticket_json
from ..encoding import isoformat
from ..models import Status, utcnow
from ..web.sessions import require_account
from .filters import filter_problems, ticket_query
from .tickets import workflow_for

blueprint = Blueprint("board", __name__)
RECENTLY_CLOSED = timedelta(days=7)
COLUMN_SIZE = 50


SORT_LABELS = {
    "newest": "Newest first",
    "activity": "Newest activity",
    "waiting": "Waiting longest",
    "priority": "Priority",
}


@blueprint.get("/board")
async def board() -> ResponseReturnValue:
    """Three columns in the chosen sort, each with its full count. A search covers every closed
    ticket; without one, the Closed column keeps to the last week."""
    user = await require_account()
    require_staff(user)
    query, errors = ticket_query(request.args)
    base = query.filters_for(user)
    since = await last_event_id(user, BOARD_ROOM)  # before reading: the socket replays the rest
    recently = None if base.q else utcnow() - RECENTLY_CLOSED
    columns, more, counts = {}, {}, {}
    for status in Status:
        filters = replace(
            base,
            statuses=(status,),
            limit=COLUMN_SIZE,
            cursor=None,
            closed_after=recently if status == Status.CLOSED else None,
        )
        page = await ticket_rules.list_tickets(user, filters)
        columns[status.value] = [ticket_json(ticket) for ticket in page.items]
        more[status.value] = page.next_cursor  # the board's "Show more" asks the API from there
        counts[status.value] = await ticket_rules.count_tickets(user, filters)
    staff = await active_staff()
    filtered = any((base.category, base.assignee is not None, base.q))
    return await render_template(
        "board.html",
        since=since,
        workflow=workflow_for(user),
        assignee_filter=base.assignee,
        columns=columns,
        more=more,
        counts=counts,
        closed_after=isoformat(recently) if recently else "",
        staff=staff,
        filters=query,
        filtered=filtered,
        sorts=SORT_LABELS,
        errors=errors,
        problems=filter_problems(errors),
        labels=CATEGORY_LABELS,
    )
