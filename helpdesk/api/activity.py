"""The activity feed: recent events the caller may see."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring

from ..domain.activity import recent_activity
from ..schemas import ActivityQuery
from ..web.sessions import require_account
from .openapi import QUERY, SIGNED_IN, errors
from .schemas import ActivityOut

blueprint = Blueprint("api_activity", __name__)


@blueprint.get("/activity")
@tag(["activity"])
@validate_querystring(ActivityQuery)
@document_response(ActivityOut, 200)
@errors(QUERY, SIGNED_IN)
async def get_activity(query_args: ActivityQuery) -> Response:
    """Newest first, as live event frames: staff see the board, reporters their own tickets."""
    events = await recent_activity(await require_account(), query_args.limit)
    body = '{"items":[' + ",".join(event.frame for event in events) + "]}"
    return Response(body, content_type="application/json")
