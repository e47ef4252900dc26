"""Attachments: photos and PDFs uploaded to a report or a conversation, and who may see them.

An upload is made safe (see helpdesk/uploads) and stored before it belongs to anything; until a
ticket or a message claims it, only its uploader sees it. Claiming happens in the transaction
that writes the ticket or message, with a conditional UPDATE, so one file never ends up in two
places and a refused message leaves its files free for the next try. Claimed files never change,
so tickets and messages keep their description and their JSON needs no further query.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ..allowances import Allowance
from ..errors import Conflict, NotFound, ServiceUnavailable, TooLarge, ValidationFailed
from ..models import Attachment, Status, Ticket, User, utcnow
from ..storage import Storage, StorageError
from ..uploads.prepare import Prepared, prepare
from .access import visible_ticket
from .fields import in_id_range
from .registration import require_confirmed

log = logging.getLogger(__name__)
ORPHAN_AGE = timedelta(days=1)
SWEEP_BATCH = 200
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    file_bytes: int
    message_bytes: int  # the files of one message or report together
    per_message: int

    @classmethod
    def megabytes(cls, file_mb: int, message_mb: int, per_message: int) -> UploadLimits:
        return cls(file_mb * MEGABYTE, message_mb * MEGABYTE, per_message)


def describe_size(size: int) -> str:
    """'830 KB', '4.2 MB': how people read a file's size."""
    if size < MEGABYTE:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / MEGABYTE:.1f} MB"


class Uploads:
    """Stores uploads and removes the ones never attached; one per app, so the storage, the
    allowance and the threads that re-encode images are shared by the API, the pages and mail."""

    def __init__(
        self, storage: Storage, allowance: Allowance, limits: UploadLimits, *, workers: int = 2
    ) -> None:
        self.storage = storage
        self.allowance = allowance
        self.limits = limits
        # Decoding a phone photo takes a core for a moment: a few threads, so uploads queue
        # instead of starving the event loop's own thread.
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upload")

    async def start(self) -> None:
        """Reach the storage. A store that cannot be reached does not keep the helpdesk from
        serving: uploads answer 503 until it can, and the log says why."""
        try:
            await self.storage.start()
        except StorageError as error:
            log.error("files cannot be stored or served (%s): %s", self.storage.description, error)

    async def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)
        await self.storage.close()

    async def target(
        self, user: User, ticket_id: int | None, *, reopening: bool = False
    ) -> Ticket | None:
        """Where an upload may go, checked before its body is read: a ticket the user may write
        on, or (None) the report being written. `reopening`: for a message that reopens its
        reporter's closed ticket (a reply by mail)."""
        require_confirmed(user)
        if ticket_id is None:
            return None
        ticket = await visible_ticket(user, ticket_id)
        closed = not user.is_staff and ticket.status == Status.CLOSED
        if closed and not (reopening and ticket.reporter_id == user.id):
            raise Conflict("this ticket is closed; reopen it to add files")
        return ticket

    async def store(
        self,
        user: User,
        target: Ticket | None,
        data: bytes,
        filename: str,
        declared_type: str | None = None,
    ) -> Attachment:
        """Make the file safe, store it and record it as the user's upload (not yet attached)."""
        if len(data) > self.limits.file_bytes:
            raise TooLarge(
                f"{filename or 'the file'} is {describe_size(len(data))}; "
                f"files may be at most {describe_size(self.limits.file_bytes)}",
                field="file",
            )
        await self.allowance.take(f"user:{user.id}")
        loop = asyncio.get_running_loop()
        prepared: Prepared = await loop.run_in_executor(
            self._workers, prepare, data, filename, declared_type
        )
        key = secrets.token_urlsafe(24)
        attachment = Attachment(
            key=key,
            uploader_id=user.id,
            ticket_id=target.id if target is not None else None,
            filename=prepared.filename,
            content_type=prepared.content_type,
            size=len(prepared.data),
            width=prepared.width,
            height=prepared.height,
            thumbnail_size=len(prepared.thumbnail) if prepared.thumbnail is not None else None,
            digest=prepared.digest,
            created_at=utcnow(),
        )
        try:
            await self.storage.put(attachment.original_key, prepared.data, prepared.content_type)
            if prepared.thumbnail is not None:
                await self.storage.put(attachment.thumbnail_key, prepared.thumbnail, "image/webp")
        except StorageError as error:
            log.error("could not store an upload: %s", error)
            await self._forget(attachment)
            raise ServiceUnavailable("files cannot be stored now; try again shortly") from None
        try:
            await attachment.save()
        except BaseException:
            await self._forget(attachment)
            raise
        return attachment

    async def remove(self, user: User, attachment_id: int) -> None:
        """Its uploader takes back a file not yet sent (the preview's "remove")."""
        attachment = await visible_attachment(user, attachment_id)
        if attachment.attached_at is not None:
            raise Conflict("this file belongs to a message or report now and stays with it")
        if attachment.uploader_id != user.id:
            raise NotFound("no such file")
        await Attachment.filter(id=attachment.id, attached_at__isnull=True).delete()
        await self._forget(attachment)

    async def sweep(self, now: datetime) -> int:
        """Remove uploads never attached within a day (a report abandoned, a preview removed
        with the page closed); returns how many went."""
        removed = 0
        while True:
            stale = (
                await Attachment.filter(attached_at__isnull=True, created_at__lt=now - ORPHAN_AGE)
                .order_by("id")
                .limit(SWEEP_BATCH)
            )
            if not stale:
                return removed
            ids = [attachment.id for attachment in stale]
            await Attachment.filter(id__in=ids, attached_at__isnull=True).delete()
            try:
                await self.storage.delete(keys_of(stale))
            except StorageError as error:  # rows gone: the files are unreachable either way
                log.warning("could not delete %d stale uploads' files: %s", len(stale), error)
            removed += len(stale)

    async def _forget(self, attachment: Attachment) -> None:
        try:
            await self.storage.delete(keys_of([attachment]))
        except StorageError as error:
            log.warning("could not delete the files of upload %s: %s", attachment.key, error)


def keys_of(attachments: Sequence[Attachment]) -> list[str]:
    return [key for each in attachments for key in (each.original_key, each.thumbnail_key)]


class UploadSweep:
    """The chore (see helpdesk/consumers) that removes stale uploads, once an hour, in the one
    process holding the consumers' lease."""

    interval = timedelta(hours=1)

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads
        self.last_run: datetime | None = None

    async def tick(self, now: datetime) -> None:
        if self.last_run is not None and now - self.last_run < self.interval:
            return
        self.last_run = now
        removed = await self.uploads.sweep(now)
        if removed:
            log.info("removed %d uploads never attached", removed)


async def visible_attachment(user: User, attachment_id: int) -> Attachment:
    """The attachment if the user may see it: its uploader until it is attached, then whoever
    may see its ticket (an internal note's files: staff only). NotFound otherwise."""
    if not in_id_range(attachment_id):
        raise NotFound("no such file")
    attachment = await Attachment.get_or_none(id=attachment_id)
    if attachment is None:
        raise NotFound("no such file")
    if attachment.attached_at is None:
        if attachment.uploader_id != user.id:
            raise NotFound("no such file")
        return attachment
    if attachment.internal and not user.is_staff:
        raise NotFound("no such file")
    try:
        await visible_ticket(user, attachment.ticket_id)  # type: ignore[arg-type]
    except NotFound:
        raise NotFound("no such file") from None
    return attachment


async def claimable(
    user: User, ids: Sequence[int], limits: UploadLimits, *, ticket: Ticket | None
) -> list[Attachment]:
    """The user's own unattached uploads named by `ids`, in that order, checked against the
    limits of one message; read before the transaction that claims them (see `claim`)."""
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise ValidationFailed("each file can be attached once", field="attachment_ids")
    if len(ids) > limits.per_message:
        raise TooLarge(
            f"attach at most {limits.per_message} files to one message", field="attachment_ids"
        )
    found = {
        each.id: each
        for each in await Attachment.filter(
            id__in=[each for each in ids if in_id_range(each)], uploader_id=user.id
        )
    }
    wrong_place = [
        each
        for each in found.values()
        if each.ticket_id is not None and (ticket is None or each.ticket_id != ticket.id)
    ]
    missing = [each for each in ids if each not in found]
    if missing or wrong_place:
        raise ValidationFailed(
            "a file is not one of your uploads here; upload it again", field="attachment_ids"
        )
    if any(each.attached_at is not None for each in found.values()):
        raise Conflict("a file was already sent with another message; upload it again")
    total = sum(each.size for each in found.values())
    if total > limits.message_bytes:
        raise TooLarge(
            f"these files are {describe_size(total)} together; one message takes at most "
            f"{describe_size(limits.message_bytes)}",
            field="attachment_ids",
        )
    return [found[each] for each in ids]


async def claim(
    connection: BaseDBAsyncClient,
    attachments: Sequence[Attachment],
    *,
    ticket_id: int,
    message_id: int | None,
    internal: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """Attach the files in the caller's transaction; returns their descriptions. A file claimed
    by another message since `claimable` read it fails the whole transaction."""
    if not attachments:
        return []
    ids = [each.id for each in attachments]
    moved = (
        await Attachment.filter(id__in=ids, attached_at__isnull=True)
        .using_db(connection)
        .update(ticket_id=ticket_id, message_id=message_id, internal=internal, attached_at=now)
    )
    if moved != len(ids):
        raise Conflict("a file was already sent with another message; upload it again")
    for each in attachments:
        each.ticket_id, each.message_id, each.internal, each.attached_at = (
            ticket_id,
            message_id,
            internal,
            now,
        )
    return [each.describe() for each in attachments]
