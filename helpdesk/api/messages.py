"""A ticket's conversation over HTTP (the socket's `say` does the same through the same domain)."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..domain.messages import list_messages, post_message
from ..domain.serialize import message_json
from ..web.context import json_response, services
from ..web.sessions import require_account
from .schemas import ErrorOut, MessageIn, MessageOut, MessagePageOut, MessagesQuery

blueprint = Blueprint("api_messages", __name__)


@blueprint.get("/tickets/<int:ticket_id>/messages")
@tag(["messages"])
@validate_querystring(MessagesQuery)
@document_response(MessagePageOut, 200)
@document_response(ErrorOut, 404)
async def get_messages(ticket_id: int, query_args: MessagesQuery) -> Response:
    """Oldest first; pass the last id as `after` to continue while `has_more` is true."""
    user = await require_account()
    items, has_more = await list_messages(
        user, ticket_id, after=query_args.after, limit=query_args.limit
    )
    return json_response({"items": [message_json(m) for m in items], "has_more": has_more})


@blueprint.post("/tickets/<int:ticket_id>/messages")
@tag(["messages"])
@validate_request(MessageIn)
@document_response(MessageOut, 201)
@document_response(MessageOut, 200)
@document_response(ErrorOut, 403)
async def post_ticket_message(ticket_id: int, data: MessageIn) -> Response:
    """Reply, or (staff) add an internal note; a repeated `client_id` returns the first (200)."""
    user = await require_account()
    posted = await post_message(
        services().event_log,
        user,
        ticket_id,
        data.body,
        internal=data.internal,
        client_id=data.client_id,
    )
    return json_response(message_json(posted.message), 200 if posted.duplicate else 201)
