"""A ticket's conversation over HTTP (the socket's `say` does the same through the same domain)."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..domain.messages import list_messages, post_message
from ..domain.reads import mark_read, read_markers
from ..domain.serialize import message_json
from ..schemas import MessageIn, MessagesQuery, ReadIn
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
    NoContent,
    errors,
)
from .schemas import MessageOut, MessagePageOut, ReadMarkersOut

blueprint = Blueprint("api_messages", __name__)


@blueprint.get("/tickets/<int:ticket_id>/messages")
@tag(["messages"])
@validate_querystring(MessagesQuery)
@document_response(MessagePageOut, 200)
@errors(QUERY, SIGNED_IN, ONE_TICKET)
async def get_messages(ticket_id: int, query_args: MessagesQuery) -> Response:
    """Oldest first; pass the last id as `after` to continue while `has_more` is true, or the
    first id as `before` for the page of earlier ones (`has_more`: earlier ones remain)."""
    user = await require_account()
    items, has_more = await list_messages(
        user,
        ticket_id,
        after=query_args.after,
        before=query_args.before,
        limit=query_args.limit,
    )
    return json_response({"items": [message_json(m) for m in items], "has_more": has_more})


@blueprint.post("/tickets/<int:ticket_id>/messages")
@tag(["messages"])
@validate_request(MessageIn)
@document_response(MessageOut, 201)
@document_response(MessageOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, ONE_TICKET, VERSIONED, RATE_LIMITED)
async def post_ticket_message(ticket_id: int, data: MessageIn) -> Response:
    """Reply, or (staff) add an internal note; a repeated `client_id` returns the first (200).
    `attachment_ids`: files uploaded to this ticket (then `body` may be empty)."""
    user = await require_account()
    app = services()
    posted = await post_message(
        app.message_writer,
        app.allowances,
        user,
        ticket_id,
        data.body,
        internal=data.internal,
        client_id=data.client_id,
        attachment_ids=data.attachment_ids,
        upload_limits=app.uploads.limits,
    )
    return json_response(message_json(posted.message), 200 if posted.duplicate else 201)


@blueprint.get("/tickets/<int:ticket_id>/reads")
@tag(["messages"])
@document_response(ReadMarkersOut, 200)
@errors(SIGNED_IN, ONE_TICKET)
async def get_reads(ticket_id: int) -> Response:
    """How far each person has read the conversation (for 'seen')."""
    markers = await read_markers(await require_account(), ticket_id)
    return json_response({"items": markers})


@blueprint.post("/tickets/<int:ticket_id>/read")
@tag(["messages"])
@validate_request(ReadIn)
@document_response(NoContent, 204)
@errors(JSON_BODY, SIGNED_IN, ONE_TICKET)
async def post_read(ticket_id: int, data: ReadIn) -> Response:
    """Mark the conversation read up to `message_id`; the ticket's room sees the new marker."""
    await mark_read(services().event_log, await require_account(), ticket_id, data.message_id)
    return Response(status=204)
