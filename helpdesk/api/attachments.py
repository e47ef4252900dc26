"""Uploads: a photo or PDF for a ticket's conversation, or for a report not yet sent."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag

from ..domain.attachments import visible_attachment
from ..domain.serialize import attachment_json
from ..errors import ValidationFailed
from ..models import Attachment, Ticket, User
from ..web.context import json_response, services
from ..web.sessions import require_account
from ..web.uploads import read_upload_form
from .openapi import (
    NOT_FOUND,
    ONE_TICKET,
    RATE_LIMITED,
    SIGNED_IN,
    NoContent,
    errors,
    takes_a_file,
)
from .schemas import AttachmentOut

blueprint = Blueprint("api_attachments", __name__)
UPLOAD = (400, 403, 408, 409, 413, 415, 503)


@blueprint.post("/attachments")
@tag(["attachments"])
@takes_a_file
@document_response(AttachmentOut, 201)
@errors(SIGNED_IN, UPLOAD, RATE_LIMITED)
async def post_report_attachment() -> Response:
    """Upload a file (multipart field `file`) for a report being written; send its id in the
    report's `attachment_ids`. Until then only you see it; unused, it is removed after a day."""
    user = await require_account()
    return await _upload(user, await services().uploads.target(user, None))


@blueprint.post("/tickets/<int:ticket_id>/attachments")
@tag(["attachments"])
@takes_a_file
@document_response(AttachmentOut, 201)
@errors(SIGNED_IN, ONE_TICKET, UPLOAD, RATE_LIMITED)
async def post_ticket_attachment(ticket_id: int) -> Response:
    """Upload a file (multipart field `file`: a JPEG, PNG, WebP, GIF or HEIC photo, or a PDF,
    judged by its bytes) to send in this ticket's conversation with `attachment_ids`. Photos
    are re-encoded without their metadata (GPS included)."""
    user = await require_account()
    return await _upload(user, await services().uploads.target(user, ticket_id))


@blueprint.get("/attachments/<int:attachment_id>")
@tag(["attachments"])
@document_response(AttachmentOut, 200)
@errors(SIGNED_IN, NOT_FOUND)
async def get_attachment(attachment_id: int) -> Response:
    attachment = await visible_attachment(await require_account(), attachment_id)
    return json_response(attachment_json(attachment.describe()))


@blueprint.delete("/attachments/<int:attachment_id>")
@tag(["attachments"])
@document_response(NoContent, 204)
@errors(SIGNED_IN, NOT_FOUND, (409,))
async def delete_attachment(attachment_id: int) -> Response:
    """Take back an upload not yet sent (sent files stay with their message: 409)."""
    await services().uploads.remove(await require_account(), attachment_id)
    return Response(status=204)


async def _upload(user: User, target: Ticket | None) -> Response:
    uploads = services().uploads
    limits = uploads.limits
    form = await read_upload_form(
        file_bytes=limits.file_bytes, total_bytes=limits.file_bytes, max_files=1
    )
    file = next((each for each in form.files if each.name == "file"), None)
    if file is None:
        raise ValidationFailed("choose a file to upload, in the field named file", field="file")
    attachment: Attachment = await uploads.store(
        user, target, file.data, file.filename, file.content_type
    )
    return json_response(attachment_json(attachment.describe()), 201)
