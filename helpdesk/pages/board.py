"""The staff board: open, active and recently closed tickets in three columns."""

from __future__ import annotations

from datetime import timedelta

from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue

from ..api.schemas import TicketQuery
from ..api.tickets import filters_from
from ..domain import tickets as ticket_rules
from ..domain.access import require_staff
from ..domain.serialize import ticket_json
from ..models import Role, Status, User, utcnow
from ..web.sessions import require_account
from .forms import parse_form
from .tickets import CATEGORY_LABELS

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
    columns = {}
    for status in Status:
        filters = ticket_rules.TicketFilters(
            statuses=(status,),
            category=base.category,
            assignee=base.assignee,
            q=base.q,
            limit=COLUMN_SIZE,
            closed_after=utcnow() - RECENTLY_CLOSED if status == Status.CLOSED else None,
        )
        page = await ticket_rules.list_tickets(user, filters)
        columns[status.value] = [ticket_json(ticket) for ticket in page.items]
    staff = await User.filter(role__in=[Role.STAFF, Role.ADMIN], is_active=True).order_by(
        "display_name"
    )
    return await render_template(
        "board.html",
        columns=columns,
        staff=staff,
        filters=query,
        errors=errors,
        labels=CATEGORY_LABELS,
    )
