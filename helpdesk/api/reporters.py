"""Reporter accounts for staff logging a call: what "Reporting for" suggests as they type."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring

from ..domain.fields import SearchText
from ..domain.reporters import SUGGESTED, find_reporters
from ..domain.serialize import user_ref
from ..schemas import UserOut
from ..web.context import json_response
from ..web.sessions import require_account
from .openapi import QUERY, SIGNED_IN, STAFF, errors

blueprint = Blueprint("api_reporters", __name__)


class ReportersQuery(BaseModel):
    q: SearchText | None = Field(None, description="part of a username or a name")
    limit: Annotated[int, Field(ge=1, le=50)] = SUGGESTED


class ReportersOut(BaseModel):
    items: list[UserOut]


@blueprint.get("/reporters")
@tag(["accounts"])
@validate_querystring(ReportersQuery)
@document_response(ReportersOut, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_reporters(query_args: ReportersQuery) -> Response:
    """Active reporter accounts matching `q`, by name (staff only)."""
    found = await find_reporters(await require_account(), query_args.q, query_args.limit)
    return json_response({"items": [user_ref(user) for user in found]})
