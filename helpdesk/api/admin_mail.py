"""Mail that did not go out, for admins: failed and uncertain rows, and sending one again."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..mail.review import send_again, troubled_mail
from ..models import MailState
from ..web.acting import acting
from ..web.context import json_response
from ..web.sessions import require_account
from .openapi import JSON_BODY, NOT_FOUND, QUERY, SIGNED_IN, STAFF, VERSIONED, errors

blueprint = Blueprint("api_admin_mail", __name__)


class MailQuery(BaseModel):
    state: Literal["failed", "uncertain"] | None = Field(
        default=None, description="only failed or only uncertain mail; both when absent"
    )


class MailOut(BaseModel):
    id: int
    to: str
    subject: str
    kind: str
    ticket_id: int | None
    state: Literal["pending", "failed", "uncertain"]
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None


class MailListOut(BaseModel):
    items: list[MailOut]


class SendAgainIn(BaseModel):
    not_delivered: bool = Field(
        default=False,
        description="required for an uncertain mail: the admin checked it never arrived",
    )


@blueprint.get("/admin/mail")
@tag(["accounts"])
@validate_querystring(MailQuery)
@document_response(MailListOut, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_mail(query_args: MailQuery) -> Response:
    """Mail the relay refused for good (failed) or may have taken (uncertain), newest first."""
    state = MailState(query_args.state) if query_args.state else None
    return json_response({"items": await troubled_mail(await require_account(), state)})


@blueprint.post("/admin/mail/<int:mail_id>/retry")
@tag(["accounts"])
@validate_request(SendAgainIn)
@document_response(MailOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, NOT_FOUND, VERSIONED)
async def post_retry(mail_id: int, data: SendAgainIn) -> Response:
    """Send a failed mail again; an uncertain one only with `not_delivered`."""
    mail = await send_again(await acting(), mail_id, not_delivered=data.not_delivered)
    return json_response(mail)
