"""The board's saved filters, each staff member's own."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request

from ..domain.saved_filters import delete_filter, save_filter, saved_filters
from ..schemas import SavedFilterIn
from ..web.context import json_response
from ..web.sessions import require_account
from .openapi import JSON_BODY, NOT_FOUND, SIGNED_IN, STAFF, NoContent, errors
from .schemas import SavedFilterOut, SavedFiltersOut

blueprint = Blueprint("api_saved_filters", __name__)


@blueprint.get("/me/filters")
@tag(["board"])
@document_response(SavedFiltersOut, 200)
@errors(SIGNED_IN, STAFF)
async def get_saved_filters() -> Response:
    return json_response({"items": await saved_filters(await require_account())})


@blueprint.post("/me/filters")
@tag(["board"])
@validate_request(SavedFilterIn)
@document_response(SavedFilterOut, 201)
@document_response(SavedFilterOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF)
async def post_saved_filter(data: SavedFilterIn) -> Response:
    """Keep the board's filter under a name (201); the same name again replaces it (200)."""
    saved, created = await save_filter(await require_account(), data.name, data.query)
    return json_response(saved, 201 if created else 200)


@blueprint.delete("/me/filters/<int:filter_id>")
@tag(["board"])
@document_response(NoContent, 204)
@errors(SIGNED_IN, STAFF, NOT_FOUND)
async def delete_saved_filter(filter_id: int) -> Response:
    await delete_filter(await require_account(), filter_id)
    return Response(status=204)
