"""The signed-in person's choice of notification mail."""

from __future__ import annotations

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request

from ..domain.notifications import EmailPreference, email_preference, set_email_preference
from ..schemas import EMAIL_CHOICES, NotificationsIn
from ..web.context import json_response
from ..web.sessions import require_account
from .openapi import JSON_BODY, SIGNED_IN, errors

blueprint = Blueprint("api_notifications", __name__)


class NotificationsOut(BaseModel):
    email: EmailPreference = Field(description=EMAIL_CHOICES)


@blueprint.get("/me/notifications")
@tag(["auth"])
@document_response(NotificationsOut, 200)
@errors(SIGNED_IN)
async def get_notifications() -> Response:
    """How the signed-in person is told by mail about their tickets."""
    return json_response({"email": email_preference(await require_account())})


@blueprint.put("/me/notifications")
@tag(["auth"])
@validate_request(NotificationsIn)
@document_response(NotificationsOut, 200)
@errors(JSON_BODY, SIGNED_IN)
async def put_notifications(data: NotificationsIn) -> Response:
    """Choose immediate mail, a daily digest, or no mail."""
    preference = await set_email_preference(await require_account(), data.email)
    return json_response({"email": preference})
