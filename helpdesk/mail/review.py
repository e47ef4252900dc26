"""What admins see of mail that did not go out, and putting a mail back in the queue.

A failed mail (the relay refused it for good) may be sent again once the cause is fixed. An
uncertain one (the sender stopped between the relay's answer and the mark) may already be in
the person's inbox: it goes again only when the admin says it was not delivered.
"""

from __future__ import annotations

from email.parser import HeaderParser
from email.policy import default
from typing import Any

from tortoise.transactions import in_transaction

from ..domain import audit
from ..domain.audit import Actor
from ..domain.fields import in_id_range
from ..encoding import isoformat
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..models import AuditAction, MailState, OutboxMail, Role, User, utcnow

TROUBLED = (MailState.FAILED, MailState.UNCERTAIN)
SHOWN = 200  # the newest ones; an outage that fails more needs fixing, not paging


def require_admin(user: User) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden("only admins see the mail that did not go out")


async def troubled_mail(admin: User, state: MailState | None = None) -> list[dict[str, Any]]:
    """Failed and uncertain mail (or those of `state`), newest first."""
    require_admin(admin)
    states = TROUBLED if state is None else (state,)
    rows = await OutboxMail.filter(state__in=states).order_by("-id").limit(SHOWN)
    return [describe(row) for row in rows]


def describe(mail: OutboxMail) -> dict[str, Any]:
    headers = HeaderParser(policy=default).parsestr(mail.message, headersonly=True)
    return {
        "id": mail.id,
        "to": mail.to_address,
        "subject": str(headers.get("Subject", "")),
        "kind": mail.kind,
        "ticket_id": mail.ticket_id,
        "state": mail.state.value,
        "attempts": mail.attempts,
        "last_error": mail.last_error,
        "created_at": isoformat(mail.created_at),
        "sent_at": isoformat(mail.sent_at),
    }


async def send_again(actor: Actor, mail_id: int, *, not_delivered: bool = False) -> dict[str, Any]:
    """Put a failed mail (or an uncertain one the admin found undelivered) back to pending,
    with its entry in the audit log."""
    require_admin(actor.user)
    mail = await OutboxMail.get_or_none(id=mail_id) if in_id_range(mail_id) else None
    if mail is None:
        raise NotFound("no such mail")
    if mail.state not in TROUBLED:
        raise Conflict(f"this mail is {mail.state.value}: only failed or uncertain mail is resent")
    if mail.state == MailState.UNCERTAIN and not not_delivered:
        raise ValidationFailed(
            "the relay may have delivered this mail: confirm that it did not arrive to send it "
            "again",
            field="not_delivered",
        )
    async with in_transaction("default") as connection:
        moved = (
            await OutboxMail.filter(id=mail.id, state=mail.state)
            .using_db(connection)
            .update(state=MailState.PENDING, next_attempt_at=utcnow())
        )
        if not moved:
            raise Conflict("this mail changed meanwhile: look again")
        await audit.record(
            connection,
            actor,
            AuditAction.MAIL_SENT_AGAIN,
            target=await User.get_or_none(id=mail.recipient_id) if mail.recipient_id else None,
            mail_id=mail.id,
            was=mail.state.value,
        )
    await mail.refresh_from_db()
    return describe(mail)
