"""A ticket's conversation: public replies and staff-only internal notes."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from ..allowances import Allowances
from ..errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from ..models import Message, Status, User
from .access import visible_ticket
from .attachments import UploadLimits, claimable
from .message_writer import Draft, MessageWriter, Posted, previous_post
from .registration import require_confirmed
from .tickets import change_status

MESSAGE_PAGE = 200


async def post_message(
    writer: MessageWriter,
    allowances: Allowances,
    author: User,
    ticket_id: int,
    body: str,
    *,
    internal: bool = False,
    client_id: str | None = None,
    reopen_note: str | None = None,
    attachment_ids: Sequence[int] = (),
    upload_limits: UploadLimits | None = None,
) -> Posted:
    """Check the rules and the author's chat allowance, then store the message and its events
    with the writer's next batch; the same `client_id` again returns the first message.

    With `reopen_note`, a reporter's message on their own closed ticket reopens it with that
    note (a reply by mail has no reopen button) instead of being refused; only once the
    allowance is taken, so a refused message changes nothing.

    `attachment_ids` are the author's uploads to send with it (within `upload_limits`); a
    message with files may have no text.
    """
    if not body and not attachment_ids:
        raise ValidationFailed("write a message or attach a file", field="body")
    require_confirmed(author)
    ticket = await visible_ticket(author, ticket_id)
    if internal and not author.is_staff:
        raise Forbidden("only staff may write internal notes", field="internal")
    closed = not author.is_staff and ticket.status == Status.CLOSED
    reopens = closed and reopen_note is not None and ticket.reporter_id == author.id
    if closed and not reopens:
        raise Conflict("this ticket is closed; reopen it to continue the conversation")
    files = ()
    if attachment_ids:
        if client_id is not None:  # sent again: its files are that first message's now
            first = await previous_post(author, ticket, client_id)
            if first is not None:
                return first
        if upload_limits is None:
            raise ValueError("messages with files need the upload limits")
        files = tuple(await claimable(author, attachment_ids, upload_limits, ticket=ticket))
    await allowances.chat.take(f"user:{author.id}")
    if reopens:
        with contextlib.suppress(InvalidTransition):  # reopened in the meantime
            ticket = await change_status(
                writer.event_log, author, ticket_id, Status.ACTIVE, reopen_note, None
            )
    return await writer.write(Draft(author, ticket, body, internal, client_id, files))


async def list_messages(
    user: User,
    ticket_id: int,
    *,
    after: int | None = None,
    before: int | None = None,
    latest: bool = False,
    limit: int = MESSAGE_PAGE,
) -> tuple[list[Message], bool]:
    """Oldest first; reporters never see internal notes.

    With `before` or `latest`, the newest `limit` (before that id), so a long conversation
    opens at its end, and whether earlier ones remain; otherwise the first `limit` after
    `after`, and whether later ones remain.
    """
    await visible_ticket(user, ticket_id)
    query = Message.filter(ticket_id=ticket_id).select_related("author")
    if not user.is_staff:
        query = query.filter(internal=False)
    if after is not None:
        query = query.filter(id__gt=after)
    if before is not None:
        query = query.filter(id__lt=before)
    if before is not None or latest:
        rows = await query.order_by("-id").limit(limit + 1)
        return rows[:limit][::-1], len(rows) > limit
    rows = await query.order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit
