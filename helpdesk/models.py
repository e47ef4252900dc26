"""The stored data: accounts, sessions, tickets with conversation and audit, the event log."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

# Model docstrings become SQL table comments, and Tortoise's SQLite migrations split statements
# on semicolons: so they hold neither semicolons nor quotes.


def utcnow() -> datetime:
    return datetime.now(UTC)


def seconds_between(later: datetime | None, earlier: datetime) -> int | None:
    """A ticket's durations (first response, resolution) in whole seconds, None until it ends."""
    return round((later - earlier).total_seconds()) if later is not None else None


class DatetimeField(fields.DatetimeField):
    """Tortoise's DatetimeField, read faster from SQLite.

    SQLite hands timestamps back as text, which Tortoise parses with a pure-Python ISO 8601
    parser: about 25 µs each, a quarter of the time of a board page of 50 tickets. What Tortoise
    writes there is what `datetime.fromisoformat` reads, in C, in well under a microsecond.
    The column stays exactly Tortoise's.
    """

    def to_python_value(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # anything else stays Tortoise's to parse
                value = datetime.fromisoformat(value)
        return super().to_python_value(value)


class Role(StrEnum):
    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"


class Category(StrEnum):
    FACILITIES = "facilities"
    IT = "it"
    SERVICES = "services"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Status(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    CLOSED = "closed"


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32, unique=True)
    display_name = fields.CharField(max_length=80)
    email = fields.CharField(max_length=254, null=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=8, default=Role.USER)
    is_active = fields.BooleanField(default=True)
    created_at = DatetimeField(default=utcnow)
    # immediate | digest | off; the column default keeps accounts made before mail existed.
    email_notifications = fields.CharField(
        max_length=16, default="immediate", db_default="immediate"
    )
    # False only for a self-registered account whose address a confirmation link has yet to
    # prove (registration limited to campus domains); every other account is confirmed.
    email_confirmed = fields.BooleanField(default=True, db_default=True)
    # The person at the university's sign-in provider: linked by the provider's subject, never
    # by an email address, which can change or pass to someone else.
    oidc_issuer = fields.CharField(max_length=255, null=True)
    oidc_subject = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "user"
        unique_together = (("oidc_issuer", "oidc_subject"),)

    @property
    def is_staff(self) -> bool:
        """Admins are staff who also manage accounts."""
        return self.role in (Role.STAFF, Role.ADMIN)

    def __str__(self) -> str:
        return self.username


class AuthSession(Model):
    """A signed-in browser. Deleting the row signs it out wherever its cookie is used."""

    id = fields.CharField(primary_key=True, max_length=64)  # sha256 of the cookie's token
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = DatetimeField(default=utcnow)
    expires_at = DatetimeField()

    class Meta:
        table = "auth_session"


class Ticket(Model):
    id = fields.IntField(primary_key=True)
    reporter: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reported_tickets", on_delete=fields.RESTRICT
    )
    assignee: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_tickets", null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    category = fields.CharEnumField(Category, max_length=16)
    location = fields.CharField(max_length=200, null=True)
    priority = fields.CharEnumField(Priority, max_length=8, default=Priority.NORMAL)
    status = fields.CharEnumField(Status, max_length=8, default=Status.OPEN)
    version = fields.IntField(default=1)
    created_at = DatetimeField(default=utcnow)
    updated_at = DatetimeField(default=utcnow)
    first_response_at = DatetimeField(null=True)
    closed_at = DatetimeField(null=True)
    last_message_at = DatetimeField(null=True)
    # Kept with the timestamps they derive from, so analytics ranks plain integers read
    # straight from an index instead of computing a duration for every row.
    first_response_seconds = fields.IntField(null=True)
    resolution_seconds = fields.IntField(null=True)
    # The files of the report, as they are described in its JSON (see Attachment.describe):
    # fixed once the ticket exists, so every ticket's JSON is made without another query.
    attachments: fields.JSONField[list[dict[str, Any]] | None] = fields.JSONField(null=True)
    # Kept on the ticket, moved in the transactions that publish it, follow it or merge into
    # it, so a board of thousands of cards shows them without another query.
    known_issue_id = fields.IntField(null=True)  # published as this known issue
    affected_count = fields.IntField(default=0, db_default=0)  # people affected, while published
    merged_into_id = fields.IntField(null=True)  # closed as a duplicate of this known issue

    class Meta:
        table = "ticket"
        indexes = (
            ("status", "id"),
            ("reporter_id", "status", "id"),
            ("assignee_id", "status", "id"),
            ("category", "status", "id"),
            ("closed_at", "resolution_seconds", "assignee_id"),
            ("created_at", "first_response_seconds"),
            ("status", "location"),
            ("status", "created_at"),
            ("first_response_seconds", "created_at"),
            ("resolution_seconds", "closed_at"),
            ("assignee_id", "closed_at"),
        )
        # Three more, on expressions (the day of created_at and of closed_at, and the building
        # of a location), are created by migration 0004: Tortoise's Index takes columns only.


class Message(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="messages", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="messages", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    internal = fields.BooleanField(default=False)
    created_at = DatetimeField(default=utcnow)
    client_id = fields.CharField(max_length=64, null=True)
    event_id = fields.BigIntField(null=True)  # its message.created event in the ticket's room
    attachments: fields.JSONField[list[dict[str, Any]] | None] = fields.JSONField(null=True)

    class Meta:
        table = "message"
        unique_together = (("author_id", "client_id"),)
        indexes = (("ticket_id", "id"),)


class StatusChange(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="status_changes", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="status_changes", on_delete=fields.RESTRICT
    )
    from_status = fields.CharEnumField(Status, max_length=8)
    to_status = fields.CharEnumField(Status, max_length=8)
    note = fields.TextField(null=True)
    at = DatetimeField(default=utcnow)

    class Meta:
        table = "status_change"
        indexes = (("ticket_id", "id"),)


class TicketEdit(Model):
    """An edit of the details of a ticket, for its history: who made it, when, and what changed."""

    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="edits", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="ticket_edits", on_delete=fields.RESTRICT
    )
    # One {"field", "from", "to"} per changed field, in field-name order; the description only
    # as {"field"} (see helpdesk/domain/tickets.py).
    changes: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()
    at = DatetimeField(default=utcnow)

    class Meta:
        table = "ticket_edit"
        indexes = (("ticket_id", "id"),)


class Event(Model):
    """One row of the event log: what the members of a room saw, in id order, for replay."""

    id = fields.BigIntField(primary_key=True)
    room = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=32)
    data = fields.TextField()  # the frame's JSON `data`, kept serialized so replay never re-encodes
    staff_only = fields.BooleanField(default=False)
    created_at = DatetimeField(default=utcnow)

    class Meta:
        table = "event"
        indexes = (("room", "id"),)


class ReadMarker(Model):
    """How far a user has read the conversation of a ticket, for unread counts and seen marks."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="read_markers", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="read_markers", on_delete=fields.CASCADE
    )
    message_id = fields.IntField()
    updated_at = DatetimeField(default=utcnow)

    class Meta:
        table = "read_marker"
        unique_together = (("user_id", "ticket_id"),)


class ConsumerCursor(Model):
    """How far an event-log consumer has acted on the log, moved with what it wrote."""

    name = fields.CharField(primary_key=True, max_length=64)
    position = fields.BigIntField(default=0)  # the last event id handled
    updated_at = DatetimeField(default=utcnow)

    class Meta:
        table = "consumer_cursor"


class NotificationKind(StrEnum):
    REPLY = "reply"
    STATUS = "status"
    ASSIGNED = "assigned"
    KNOWN_ISSUE = "known_issue"  # news of a known issue the person is affected by


class NotificationState(StrEnum):
    PENDING = "pending"
    MAILED = "mailed"
    SEEN = "seen"  # read in the app before it was due
    DROPPED = "dropped"  # the person turned mail off or has no address


class PendingNotification(Model):
    """Something a person may be mailed about once its delay has passed, unless they saw it."""

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="notifications", on_delete=fields.CASCADE
    )
    event_id = fields.BigIntField()
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    message_id = fields.IntField(null=True)  # the reply, for the read-marker check
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="caused_notifications", on_delete=fields.CASCADE
    )
    body = fields.TextField(null=True)  # the reply, or the note of a status change
    from_status = fields.CharField(max_length=8, null=True)
    to_status = fields.CharField(max_length=8, null=True)
    watched = fields.BooleanField(default=False)  # the person had the ticket open right then
    at = DatetimeField()
    due_at = DatetimeField()
    state = fields.CharEnumField(NotificationState, max_length=8, default=NotificationState.PENDING)

    class Meta:
        table = "pending_notification"
        unique_together = (("recipient_id", "event_id"),)
        indexes = (("state", "due_at"), ("recipient_id", "ticket_id", "state"))


class MailState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"  # the process stopped mid-send: never resent, shown to admins


class OutboxMail(Model):
    """One mail to send, whole as RFC 5322 text, with where its delivery stands."""

    id = fields.IntField(primary_key=True)
    to_address = fields.CharField(max_length=254)
    recipient: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mails", null=True, on_delete=fields.SET_NULL
    )
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="mails", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=16)  # ticket | digest
    message_id = fields.CharField(max_length=255, unique=True)
    message = fields.TextField()
    state = fields.CharEnumField(MailState, max_length=10, default=MailState.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = DatetimeField(default=utcnow)
    last_error = fields.TextField(null=True)
    created_at = DatetimeField(default=utcnow)
    sent_at = DatetimeField(null=True)

    class Meta:
        table = "outbox_mail"
        indexes = (("state", "next_attempt_at"), ("recipient_id", "created_at"))


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (the name of a purpose, not a password)
    CONFIRM_ADDRESS = "confirm_address"


class MailedToken(Model):
    """A single-use link sent by mail: stored as the sha256 of the token, never the token."""

    id = fields.CharField(primary_key=True, max_length=64)  # sha256 of the token, hex
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mailed_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(TokenPurpose, max_length=16)
    created_at = DatetimeField(default=utcnow)
    expires_at = DatetimeField()
    used_at = DatetimeField(null=True)

    class Meta:
        table = "mailed_token"
        indexes = (("user_id", "purpose"),)


class AuditAction(StrEnum):
    ACCOUNT_CREATED = "account.created"
    ROLE_CHANGED = "account.role_changed"
    DEACTIVATED = "account.deactivated"
    REACTIVATED = "account.reactivated"
    PASSWORD_RESET_SENT = "account.password_reset_sent"  # noqa: S105 (an action, not a password)
    MAIL_SENT_AGAIN = "mail.sent_again"


class AuditEntry(Model):
    """What an admin did to an account or the mail, who did it, when and from which address."""

    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="audit_actions", on_delete=fields.RESTRICT
    )
    action = fields.CharEnumField(AuditAction, max_length=32)
    target: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.RESTRICT
    )
    details: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    client_address = fields.CharField(max_length=64, null=True)
    at = DatetimeField(default=utcnow)

    class Meta:
        table = "audit_entry"
        indexes = (("target_id", "id"),)


class Attachment(Model):
    """A file uploaded to a ticket or a message, seen by its uploader alone until attached."""

    # Once attached it never changes; an upload never attached is removed after a day.

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)  # random: its name in the storage
    uploader: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="uploads", on_delete=fields.RESTRICT
    )
    # The ticket it was uploaded to (none yet for a report being written), then attached to.
    ticket: fields.ForeignKeyNullableRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="files", null=True, on_delete=fields.CASCADE
    )
    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="files", null=True, on_delete=fields.CASCADE
    )
    internal = fields.BooleanField(default=False)  # a file of an internal note: staff only
    filename = fields.CharField(max_length=128)
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    thumbnail_size = fields.IntField(null=True)  # none for a PDF
    digest = fields.CharField(max_length=64)  # sha256 of the stored bytes, the ETag
    created_at = DatetimeField(default=utcnow)
    attached_at = DatetimeField(null=True)

    class Meta:
        table = "attachment"
        indexes = (("attached_at", "created_at"), ("uploader_id", "created_at"))

    @property
    def original_key(self) -> str:
        return f"{self.key}/original"

    @property
    def thumbnail_key(self) -> str:
        return f"{self.key}/thumbnail"

    def describe(self) -> dict[str, Any]:
        """What a ticket or message keeps of it (its JSON adds the addresses)."""
        return {
            "id": self.id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "thumbnail": self.thumbnail_size is not None,
        }


class KnownIssue(Model):
    """A ticket published for everyone on campus: what is broken, in words fit for anyone."""

    # Its status is its ticket's; withdrawn, it is no longer listed, and published again, it is.
    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="publication", on_delete=fields.CASCADE
    )
    public_title = fields.CharField(max_length=200)
    public_note = fields.TextField(null=True)
    building = fields.CharField(max_length=200, null=True)  # of the ticket's location
    published_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="published_issues", on_delete=fields.RESTRICT
    )
    published_at = DatetimeField(default=utcnow)
    updated_at = DatetimeField(default=utcnow)
    withdrawn_at = DatetimeField(null=True)

    class Meta:
        table = "known_issue"
        indexes = (("withdrawn_at", "updated_at"), ("building", "withdrawn_at"))


class Affected(Model):
    """Someone affected by a known issue: they said me too, or their ticket was merged into it."""

    id = fields.IntField(primary_key=True)
    known_issue: fields.ForeignKeyRelation[KnownIssue] = fields.ForeignKeyField(
        "models.KnownIssue", related_name="affected", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="affected_by", on_delete=fields.CASCADE
    )
    merged = fields.BooleanField(default=False)  # through a merged duplicate of their own
    created_at = DatetimeField(default=utcnow)

    class Meta:
        table = "affected"
        unique_together = (("known_issue_id", "user_id"),)
        indexes = (("user_id", "known_issue_id"),)


class KnownIssueUpdate(Model):
    """What the helpdesk told everyone affected by a known issue."""

    id = fields.IntField(primary_key=True)
    known_issue: fields.ForeignKeyRelation[KnownIssue] = fields.ForeignKeyField(
        "models.KnownIssue", related_name="updates", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="known_issue_updates", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    created_at = DatetimeField(default=utcnow)

    class Meta:
        table = "known_issue_update"
        indexes = (("known_issue_id", "id"),)


class TicketMerge(Model):
    """A ticket closed as a duplicate of a known issue, for the histories of both tickets."""

    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="merge", on_delete=fields.CASCADE
    )
    known_issue: fields.ForeignKeyRelation[KnownIssue] = fields.ForeignKeyField(
        "models.KnownIssue", related_name="merges", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="merges", on_delete=fields.RESTRICT
    )
    at = DatetimeField(default=utcnow)

    class Meta:
        table = "ticket_merge"
        indexes = (("known_issue_id", "id"),)


class FanOut(Model):
    """News of a known issue to tell everyone affected, a batch of people at a time."""

    # `position` is the last Affected id told; the job is done when none is left after it.
    id = fields.IntField(primary_key=True)
    known_issue: fields.ForeignKeyRelation[KnownIssue] = fields.ForeignKeyField(
        "models.KnownIssue", related_name="fan_outs", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)  # the event each affected person gets
    data = fields.TextField()  # its JSON data
    position = fields.IntField(default=0)
    created_at = DatetimeField(default=utcnow)
    done_at = DatetimeField(null=True)

    class Meta:
        table = "fan_out"
        indexes = (("done_at", "id"),)


class SavedFilter(Model):
    """A board filter a staff member keeps under a name."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="saved_filters", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=60)
    query = fields.CharField(max_length=1000)  # the board's query string, e.g. status=open&q=wifi
    created_at = DatetimeField(default=utcnow)

    class Meta:
        table = "saved_filter"
        unique_together = (("user_id", "name"),)
