"""The staff board: open, active and recently closed tickets in three columns."""

from __future__ import annotations

from datetime import timedelta

from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue

from ..api.schemas import TicketQuery
from ..api.tickets import filters_from
from ..domain import tickets as ticket_rules
from ..domain.access import require_staff
from ..domain.accounts import active_staff
from ..domain.activity import last_event_id
from ..domain.events import BOARD_ROOM
from ..domain.serialize import ticket_json
from ..encoding import isoformat
from ..models import Status, utcnow
from ..web.sessions import require_account
from .forms import parse_form
from .tickets import CATEGORY_LABELS, workflow_for

blueprint = Blueprint("board", __name__)
RECENTLY_CLOSED = timedelta(days=7)
COLUMN_SIZE = 50


@blueprint.get("/board")
async def board() -> ResponseReturnValue:
    user = await require_account()
    require_staff(user)
    query, errors = parse_form(TicketQuery, request.args)
    query = query or TicketQuery()
    base = filters_from(query, user)
    since = await last_event_id(user, BOARD_ROOM)  # before reading: the socket replays the rest
    recently = utcnow() - RECENTLY_CLOSED
    columns, more = {}, {}
    for status in Status:
        filters = ticket_rules.TicketFilters(
            statuses=(status,),
            category=base.category,
            assignee=base.assignee,
            q=base.q,
            limit=COLUMN_SIZE,
            closed_after=recently if status == Status.CLOSED else None,
        )
        page = await ticket_rules.list_tickets(user, filters)
        columns[status.value] = [ticket_json(ticket) for ticket in page.items]
        more[status.value] = page.next_cursor  # the board's "Show more" asks the API from there
    staff = await active_staff()
    return await render_template(
        "board.html",
        since=since,
        workflow=workflow_for(user),
        assignee_filter=base.assignee,
        columns=columns,
        more=more,
        closed_after=isoformat(recently),
        staff=staff,
        filters=query,
        errors=errors,
        labels=CATEGORY_LABELS,
    )
