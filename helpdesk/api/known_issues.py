"""Known issues: publishing, the public list, "me too", public updates, and merging duplicates."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..domain import known_issues
from ..domain.serialize import ticket_json
from ..models import utcnow
from ..schemas import KnownIssuesQuery, KnownIssueUpdateIn, MergeIn, PublishIn
from ..web.context import json_response, services
from ..web.sessions import require_account
from .openapi import (
    JSON_BODY,
    NOT_FOUND,
    ONE_TICKET,
    QUERY,
    RATE_LIMITED,
    SIGNED_IN,
    STAFF,
    VERSIONED,
    NoContent,
    errors,
)
from .schemas import KnownIssueDetailOut, KnownIssueOut, KnownIssuePageOut, TicketOut

blueprint = Blueprint("api_known_issues", __name__)


@blueprint.post("/tickets/<int:ticket_id>/known-issue")
@tag(["known issues"])
@validate_request(PublishIn)
@document_response(KnownIssueOut, 201)
@document_response(KnownIssueOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED)
async def post_known_issue(ticket_id: int, data: PublishIn) -> Response:
    """Publish the ticket as a known issue (201), or change its public words (200). Nothing of
    the ticket itself is shown: only `public_title`, `public_note` and the building."""
    body, created = await known_issues.publish(
        services().event_log,
        await require_account(),
        ticket_id,
        data.public_title,
        data.public_note,
    )
    return json_response(body, 201 if created else 200)


@blueprint.delete("/tickets/<int:ticket_id>/known-issue")
@tag(["known issues"])
@document_response(NoContent, 204)
@errors(SIGNED_IN, STAFF, ONE_TICKET)
async def delete_known_issue(ticket_id: int) -> Response:
    """Withdraw it: no longer listed; the affected are kept, should it be published again."""
    await known_issues.withdraw(services().event_log, await require_account(), ticket_id)
    return Response(status=204)


@blueprint.get("/known-issues")
@tag(["known issues"])
@validate_querystring(KnownIssuesQuery)
@document_response(KnownIssuePageOut, 200)
@errors(QUERY, SIGNED_IN)
async def get_known_issues(query_args: KnownIssuesQuery) -> Response:
    """What is broken on campus: newest news first, a building's with `location`, the best
    matches for the words of a report with `q` (the same building first). Fixed ones stay
    a few days, saying so."""
    items = await known_issues.list_known_issues(
        await require_account(), location=query_args.location, q=query_args.q, now=utcnow()
    )
    return json_response({"items": items})


@blueprint.get("/known-issues/<int:issue_id>")
@tag(["known issues"])
@document_response(KnownIssueDetailOut, 200)
@errors(SIGNED_IN, NOT_FOUND)
async def get_known_issue(issue_id: int) -> Response:
    issue, updates = await known_issues.public_issue(await require_account(), issue_id)
    return json_response({**issue, "updates": updates})


@blueprint.post("/known-issues/<int:issue_id>/affected")
@tag(["known issues"])
@document_response(KnownIssueOut, 201)
@document_response(KnownIssueOut, 200)
@errors(SIGNED_IN, NOT_FOUND, RATE_LIMITED)
async def post_affected(issue_id: int) -> Response:
    """ "Me too": you hear its updates and when it is fixed, live and by mail (201; 200 when
    you had said so already)."""
    app = services()
    body, changed = await known_issues.set_affected(
        app.event_log, app.allowances, await require_account(), issue_id, affected=True
    )
    return json_response(body, 201 if changed else 200)


@blueprint.delete("/known-issues/<int:issue_id>/affected")
@tag(["known issues"])
@document_response(NoContent, 204)
@errors(SIGNED_IN, NOT_FOUND, RATE_LIMITED)
async def delete_affected(issue_id: int) -> Response:
    app = services()
    await known_issues.set_affected(
        app.event_log, app.allowances, await require_account(), issue_id, affected=False
    )
    return Response(status=204)


@blueprint.post("/known-issues/<int:issue_id>/updates")
@tag(["known issues"])
@validate_request(KnownIssueUpdateIn)
@document_response(KnownIssueOut, 201)
@errors(JSON_BODY, SIGNED_IN, STAFF, NOT_FOUND)
async def post_known_issue_update(issue_id: int, data: KnownIssueUpdateIn) -> Response:
    """Tell everyone affected what is happening; they hear it live and by mail."""
    body = await known_issues.post_update(
        services().event_log, await require_account(), issue_id, data.body
    )
    return json_response(body, 201)


@blueprint.post("/tickets/<int:ticket_id>/merge")
@tag(["known issues"])
@validate_request(MergeIn)
@document_response(TicketOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED)
async def post_merge(ticket_id: int, data: MergeIn) -> Response:
    """Close an open or active ticket as a duplicate of known issue `into` (404 when it is not
    published); its reporter becomes affected and its history says where to follow."""
    ticket = await known_issues.merge(
        services().event_log, await require_account(), ticket_id, data.into, data.note
    )
    return json_response(ticket_json(ticket))
