"""Attachments' bytes, to whoever may see their ticket or message (everyone else: 404)."""

from __future__ import annotations

from quart import Blueprint, Response

from ..domain.attachments import visible_attachment
from ..errors import NotFound, ServiceUnavailable
from ..storage import StorageError, StoredFileMissing
from ..web.context import services
from ..web.files import StoredFile, file_response
from ..web.sessions import require_account

blueprint = Blueprint("files", __name__)
PDF = "application/pdf"


@blueprint.get("/files/<int:attachment_id>")
async def get_file(attachment_id: int) -> Response:
    """The file as it was stored: images shown, PDFs always saved, never rendered here."""
    attachment = await visible_attachment(await require_account(), attachment_id)
    stored = StoredFile(
        key=attachment.original_key,
        size=attachment.size,
        content_type=attachment.content_type,
        etag=attachment.digest,
        filename=attachment.filename,
        download=attachment.content_type == PDF,
    )
    return await _serve(stored)


@blueprint.get("/files/<int:attachment_id>/thumbnail")
async def get_thumbnail(attachment_id: int) -> Response:
    attachment = await visible_attachment(await require_account(), attachment_id)
    if attachment.thumbnail_size is None:
        raise NotFound("this file has no thumbnail")
    stem = attachment.filename.rsplit(".", 1)[0]
    stored = StoredFile(
        key=attachment.thumbnail_key,
        size=attachment.thumbnail_size,
        content_type="image/webp",
        etag=f"{attachment.digest[:32]}-thumbnail",
        filename=f"{stem}-thumbnail.webp",
        download=False,
    )
    return await _serve(stored)


async def _serve(stored: StoredFile) -> Response:
    try:
        return await file_response(services().uploads.storage, stored)
    except StoredFileMissing:
        raise NotFound("this file is no longer stored") from None
    except StorageError:
        raise ServiceUnavailable("files cannot be read right now; try again shortly") from None
