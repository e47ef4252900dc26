"""Notification mail built from plain data: headers, a text part and an HTML part.

Pure functions, no app context: the notifier calls them inside its transaction and stores
the result in the outbox. User text only ever reaches a header through `_one_line` (no line
breaks, no control characters), and the HTML part is rendered with autoescaping.

A message's files are named with their size and linked, never attached: the link opens only
for someone signed in who may see the file, so a mail forwarded or read over a shoulder gives
away a file's name at most.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid
from functools import cache
from typing import Any, Literal
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..assets import asset_dir
from ..config import Settings
from ..domain.attachments import describe_size
from ..domain.labels import KNOWN_ISSUE_STATUS_LABELS
from ..domain.serialize import attachment_json
from ..models import Message, Status, Ticket, User
from . import tokens

# The inbound gateway keeps only what a reply has above this line.
REPLY_MARKER = "## Reply above this line ##"

UpdateKind = Literal["reply", "status", "assigned", "known_issue"]


@dataclass(frozen=True)
class MailSettings:
    mail_from: str
    public_url: str
    reply_domain: str
    secret_key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        return cls(
            mail_from=settings.mail_from,
            public_url=settings.public_url.rstrip("/"),
            reply_domain=settings.reply_domain,
            secret_key=settings.secret_key,
        )

    @property
    def host(self) -> str:
        """The site's host name: the right-hand side of our Message-IDs and thread ids."""
        return urlsplit(self.public_url).hostname or "localhost"


@dataclass(frozen=True)
class Update:
    """One thing that happened on a ticket, as the recipient is told it."""

    kind: UpdateKind
    actor: dict[str, Any]  # a user_ref: {id, username, display_name, ...}
    at: datetime
    body: str | None = None  # the reply's text, or the status change's note
    from_status: str | None = None
    to_status: str | None = None
    attachments: tuple[dict[str, Any], ...] = ()  # the reply's files, as its message keeps them


@dataclass(frozen=True)
class PublicIssue:
    """A known issue as its mail names it: its public words only, never its ticket's."""

    id: int
    title: str
    building: str | None
    status: Status


def _one_line(text: str) -> str:
    """Text safe for a header: line breaks and other control characters become spaces."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(cleaned.split())


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(asset_dir("templates") / "mail"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def thread_id(settings: MailSettings, ticket_id: int) -> str:
    """The Message-ID every mail of one ticket refers to, so mail clients group them."""
    return f"<ticket-{ticket_id}@{settings.host}>"


def ticket_url(settings: MailSettings, ticket_id: int) -> str:
    return f"{settings.public_url}/tickets/{ticket_id}"


def _mail(
    settings: MailSettings, recipient: User, subject: str, template: str, context: dict[str, Any]
) -> EmailMessage:
    """What every mail of the helpdesk has: its addresses, identity and both parts from
    `template`.txt / .html."""
    if not recipient.email:
        raise ValueError(f"user {recipient.id} has no email address")
    message = EmailMessage(policy=SMTP)
    message["Subject"] = _one_line(subject)
    message["From"] = settings.mail_from
    message["To"] = formataddr((_one_line(recipient.display_name), recipient.email))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=template, domain=settings.host)
    message["Auto-Submitted"] = "auto-generated"
    # Asks Exchange not to answer with out-of-office mail, which would come back as replies.
    message["X-Auto-Response-Suppress"] = "All"
    context = {**context, "recipient_name": recipient.display_name}
    environment = _templates()
    text = environment.get_template(f"{template}.txt").render(context)
    html = environment.get_template(f"{template}.html").render(context)
    # Quoted-printable keeps long lines and non-ASCII text within what every relay accepts.
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def _message(
    settings: MailSettings, recipient: User, subject: str, template: str, context: dict[str, Any]
) -> EmailMessage:
    """A notification: a mail with the list headers that let its reader stop them in one click."""
    unsubscribe_url = (
        f"{settings.public_url}/unsubscribe/"
        f"{tokens.unsubscribe_token(settings.secret_key, recipient.id)}"
    )
    context = {
        **context,
        "reply_marker": REPLY_MARKER,
        "settings_url": f"{settings.public_url}/account/notifications",
        "unsubscribe_url": unsubscribe_url,
    }
    message = _mail(settings, recipient, subject, template, context)
    message["List-Id"] = f"Campus Helpdesk notifications <notifications.{settings.host}>"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def _files(
    settings: MailSettings, described: Sequence[dict[str, Any]] | None
) -> list[dict[str, str]]:
    """A message's files as a mail names them: the name, the size, an absolute link."""
    return [
        {
            "filename": each["filename"],
            "size": describe_size(each["size"]),
            "url": settings.public_url + attachment_json(each)["url"],
        }
        for each in described or ()
    ]


def _sent(count: int) -> str:
    """What a message of files alone says it did: 'sent a file', 'sent 3 files'."""
    return "sent a file" if count == 1 else f"sent {count} files"


def _news(update: Update) -> str:
    """What a known issue's update says happened: news posted, or its new state."""
    if update.body:
        return "The helpdesk posted an update for everyone affected"
    label = KNOWN_ISSUE_STATUS_LABELS.get(Status(update.to_status or "open"), "")
    return f"It is now: {label.lower()}"


def _update_context(settings: MailSettings, update: Update) -> dict[str, Any]:
    files = _files(settings, update.attachments)
    return {
        "news": _news(update) if update.kind == "known_issue" else "",
        "kind": update.kind,
        "actor": update.actor["display_name"],
        "when": _when(update.at),
        "body": update.body,
        "from_status": update.from_status,
        "to_status": update.to_status,
        "files": files,
        "sent": _sent(len(files)),
    }


def _ticket_context(
    settings: MailSettings, ticket: Ticket, updates: list[Update]
) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "title": ticket.title,
        "status": ticket.status.value,
        "url": ticket_url(settings, ticket.id),
        "updates": [_update_context(settings, update) for update in updates],
    }


def _recent_context(settings: MailSettings, message: Message) -> dict[str, Any]:
    files = _files(settings, message.attachments)
    return {
        "author": message.author.display_name,
        "when": _when(message.created_at),
        "body": message.body,
        "files": files,
        "sent": _sent(len(files)),
    }


def compose_ticket_mail(
    settings: MailSettings,
    recipient: User,
    ticket: Ticket,
    updates: list[Update],
    recent: list[Message],
) -> EmailMessage:
    """One mail about what happened on `ticket`, threaded with the ticket's other mail.

    `recent` are the last public messages, oldest first, each with its `author` fetched; the
    caller chooses them (never an internal note for a reporter), and they are shown as given.
    """
    message = _message(
        settings,
        recipient,
        f"[#{ticket.id}] {ticket.title}",
        "ticket",
        {
            "ticket": _ticket_context(settings, ticket, updates),
            "recent": [_recent_context(settings, item) for item in recent],
        },
    )
    message["Reply-To"] = tokens.reply_address(
        settings.secret_key, settings.reply_domain, ticket.id, recipient.id
    )
    message["In-Reply-To"] = thread_id(settings, ticket.id)
    message["References"] = thread_id(settings, ticket.id)
    return message


def known_issue_url(settings: MailSettings, issue_id: int) -> str:
    return f"{settings.public_url}/known-issues/{issue_id}"


def _issue_context(
    settings: MailSettings, issue: PublicIssue, updates: list[Update]
) -> dict[str, Any]:
    return {
        "title": issue.title,
        "building": issue.building,
        "status_words": KNOWN_ISSUE_STATUS_LABELS[issue.status].lower(),
        "url": known_issue_url(settings, issue.id),
        "updates": [_update_context(settings, update) for update in updates],
    }


def compose_known_issue_mail(
    settings: MailSettings, recipient: User, issue: PublicIssue, updates: list[Update]
) -> EmailMessage:
    """News of a known issue for someone affected by it: only what everyone on campus may read,
    and no reply address (a reply would reach nobody's ticket)."""
    return _message(
        settings,
        recipient,
        f"[Known issue] {issue.title}",
        "known_issue",
        {"issue": _issue_context(settings, issue, updates)},
    )


def compose_digest(
    settings: MailSettings,
    recipient: User,
    groups: list[tuple[Ticket, list[Update]]],
    issues: Sequence[tuple[PublicIssue, list[Update]]] = (),
) -> EmailMessage:
    """The day's mail for someone who asked for a digest: every ticket's updates in one, then
    the known issues they are affected by."""
    today = datetime.now(UTC)
    day = f"{today.day} {today:%B %Y}"
    return _message(
        settings,
        recipient,
        f"Your helpdesk updates for {day}",
        "digest",
        {
            "day": day,
            "tickets": [
                {
                    **_ticket_context(settings, ticket, updates),
                    "reply_to": tokens.reply_address(
                        settings.secret_key, settings.reply_domain, ticket.id, recipient.id
                    ),
                }
                for ticket, updates in groups
            ],
            "issues": [_issue_context(settings, issue, updates) for issue, updates in issues],
        },
    )


def _account_message(
    settings: MailSettings, recipient: User, subject: str, template: str, context: dict[str, Any]
) -> EmailMessage:
    """A mail about the account itself (a reset, a confirmation): asked for by its reader, so
    not a notification: no unsubscribe, no reply address."""
    return _mail(
        settings, recipient, subject, template, {**context, "username": recipient.username}
    )


def password_reset_url(settings: MailSettings, token: str) -> str:
    return f"{settings.public_url}/password-reset/{token}"


def confirm_address_url(settings: MailSettings, token: str) -> str:
    return f"{settings.public_url}/confirm-address/{token}"


def compose_password_reset(settings: MailSettings, recipient: User, token: str) -> EmailMessage:
    """The link that sets a new password, for someone who asked for one."""
    return _account_message(
        settings,
        recipient,
        "Set a new Campus Helpdesk password",
        "password_reset",
        {"url": password_reset_url(settings, token)},
    )


def compose_address_confirmation(
    settings: MailSettings, recipient: User, token: str
) -> EmailMessage:
    """The link that proves a new account's address, so it may start reporting."""
    return _account_message(
        settings,
        recipient,
        "Confirm your Campus Helpdesk address",
        "confirm_address",
        {"url": confirm_address_url(settings, token)},
    )
