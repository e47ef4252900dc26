"""The outbox: every mail is a row first, written in the transaction that decided to send it,
so a mail is never lost between deciding and sending (see sender.py for the sending)."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

from tortoise.backends.base.client import BaseDBAsyncClient

from ..models import OutboxMail, User


async def enqueue(
    connection: BaseDBAsyncClient,
    message: EmailMessage,
    *,
    recipient: User,
    ticket_id: int | None,
    kind: str,
) -> OutboxMail:
    """Keep `message` for sending; it commits or rolls back with `connection`'s transaction."""
    return await OutboxMail.create(
        to_address=recipient.email,
        recipient=recipient,
        ticket_id=ticket_id,
        kind=kind,
        message_id=str(message["Message-ID"]),
        message=message.as_string(policy=SMTP),
        using_db=connection,
    )
