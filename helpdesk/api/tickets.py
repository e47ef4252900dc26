"""Tickets: report, list, read, edit, move along the workflow, assign, and their history."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..domain import tickets
from ..domain.access import visible_ticket
from ..domain.bulk import apply_to_each
from ..domain.known_issues import duplicates_of
from ..domain.serialize import history_json, ticket_json
from ..schemas import AssignIn, BulkIn, StatusIn, TicketIn, TicketPatch, TicketQuery
from ..web.context import json_response, services
from ..web.sessions import require_account
from .openapi import (
    JSON_BODY,
    ONE_TICKET,
    QUERY,
    RATE_LIMITED,
    SIGNED_IN,
    STAFF,
    VERSIONED,
    errors,
)
from .schemas import (
    BulkOut,
    DuplicatesOut,
    HistoryOut,
    TicketCountOut,
    TicketOut,
    TicketPageOut,
)

blueprint = Blueprint("api_tickets", __name__)


@blueprint.post("/tickets")
@tag(["tickets"])
@validate_request(TicketIn)
@document_response(TicketOut, 201)
@errors(JSON_BODY, SIGNED_IN, STAFF, RATE_LIMITED)
async def post_ticket(data: TicketIn) -> Response:
    """Report a problem (reporters: `HELPDESK_REPORTS_PER_HOUR` an hour, then 429); staff may
    report for someone else with `reporter_id` (403 for anyone else). `attachment_ids`: files
    uploaded with POST /attachments for this report."""
    user = await require_account()
    draft = tickets.TicketDraft(
        title=data.title,
        description=data.description,
        category=data.category,
        location=data.location,
        priority=data.priority,
        reporter_id=data.reporter_id,
        attachment_ids=tuple(data.attachment_ids),
    )
    app = services()
    ticket = await tickets.create_ticket(
        app.event_log, app.allowances, user, draft, app.uploads.limits
    )
    return json_response(ticket_json(ticket), 201)


@blueprint.get("/tickets")
@tag(["tickets"])
@validate_querystring(TicketQuery)
@document_response(TicketPageOut, 200)
@errors(QUERY, SIGNED_IN)
async def get_tickets(query_args: TicketQuery) -> Response:
    """Newest first; reporters get their own tickets only. Follow `next_cursor` for more."""
    user = await require_account()
    page = await tickets.list_tickets(user, query_args.filters_for(user))
    return json_response(
        {"items": [ticket_json(ticket) for ticket in page.items], "next_cursor": page.next_cursor}
    )


@blueprint.get("/tickets/count")
@tag(["tickets"])
@validate_querystring(TicketQuery)
@document_response(TicketCountOut, 200)
@errors(QUERY, SIGNED_IN)
async def get_ticket_count(query_args: TicketQuery) -> Response:
    """How many tickets `GET /tickets` lists with the same filters (`limit`, `cursor` and `sort`
    aside), counted by the database."""
    user = await require_account()
    count = await tickets.count_tickets(user, query_args.filters_for(user))
    return json_response({"count": count})


@blueprint.get("/tickets/<int:ticket_id>")
@tag(["tickets"])
@document_response(TicketOut, 200)
@errors(SIGNED_IN, ONE_TICKET)
async def get_ticket(ticket_id: int) -> Response:
    ticket = await visible_ticket(await require_account(), ticket_id, with_people=True)
    return json_response(ticket_json(ticket))


@blueprint.patch("/tickets/<int:ticket_id>")
@tag(["tickets"])
@validate_request(TicketPatch)
@document_response(TicketOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED)
async def patch_ticket(ticket_id: int, data: TicketPatch) -> Response:
    """Edit fields; with `version`, a stale write is refused with 409 and the current ticket."""
    user = await require_account()
    ticket = await tickets.update_ticket(
        services().event_log, user, ticket_id, data.changes(), data.version
    )
    return json_response(ticket_json(ticket))


@blueprint.post("/tickets/<int:ticket_id>/status")
@tag(["tickets"])
@validate_request(StatusIn)
@document_response(TicketOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED)
async def post_status(ticket_id: int, data: StatusIn) -> Response:
    """Move along open → active → closed (closed → active reopens); 409 names the allowed moves."""
    user = await require_account()
    ticket = await tickets.change_status(
        services().event_log, user, ticket_id, data.status, data.note, data.version
    )
    return json_response(ticket_json(ticket))


@blueprint.post("/tickets/<int:ticket_id>/assign")
@tag(["tickets"])
@validate_request(AssignIn)
@document_response(TicketOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED)
async def post_assign(ticket_id: int, data: AssignIn) -> Response:
    """Staff assign a ticket to a staff member, or to nobody with `null`."""
    user = await require_account()
    ticket = await tickets.assign_ticket(
        services().event_log, user, ticket_id, data.assignee_id, data.version
    )
    return json_response(ticket_json(ticket))


@blueprint.get("/tickets/<int:ticket_id>/history")
@tag(["tickets"])
@document_response(HistoryOut, 200)
@errors(SIGNED_IN, ONE_TICKET)
async def get_history(ticket_id: int) -> Response:
    """The status changes (`kind: status`, with their notes) and the edits of the details
    (`kind: edit`, each field old → new; the description named only), oldest first, with who
    made each."""
    history = await tickets.ticket_history(await require_account(), ticket_id)
    return json_response({"items": [history_json(item) for item in history]})


@blueprint.post("/tickets/bulk")
@tag(["tickets"])
@validate_request(BulkIn)
@document_response(BulkOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF)
async def post_bulk(data: BulkIn) -> Response:
    """Assign many tickets, or close them as duplicates of a known issue, from the board: each
    on its own, with its own answer (`status` 200 and the ticket, or the error)."""
    results = await apply_to_each(
        services().event_log,
        await require_account(),
        data.ids,
        data.action,
        assignee_id=data.assignee_id,
        into=data.into,
    )
    return json_response({"results": results})


@blueprint.get("/tickets/<int:ticket_id>/duplicates")
@tag(["tickets"])
@document_response(DuplicatesOut, 200)
@errors(SIGNED_IN, STAFF, ONE_TICKET)
async def get_duplicates(ticket_id: int) -> Response:
    """Open tickets that may report the same thing (same building and category, similar
    words, opened within days of it), and known issues it may belong to: for merging."""
    found, issues = await duplicates_of(await require_account(), ticket_id)
    return json_response({"tickets": [ticket_json(each) for each in found], "known_issues": issues})
