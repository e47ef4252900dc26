"""Response shapes of the JSON API, for its OpenAPI description (requests: helpdesk/schemas.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.fields import Category, Priority, Status
from ..models import AuditAction
from ..schemas import UserOut


class UserEnvelope(BaseModel):
    user: UserOut


class AttachmentOut(BaseModel):
    id: int
    filename: str = Field(description="a safe name, with the extension of what the bytes are")
    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"]
    size: int = Field(description="bytes, as stored (photos re-encoded)")
    width: int | None
    height: int | None
    url: str = Field(description="the file, for whoever may see its message or ticket")
    thumbnail_url: str | None = Field(description="a WebP within 480 by 480 pixels; none for a PDF")


class TicketOut(BaseModel):
    id: int
    title: str
    description: str
    category: Category
    location: str | None
    priority: Priority
    status: Status
    version: int
    reporter: UserOut
    assignee: UserOut | None
    created_at: str
    updated_at: str
    first_response_at: str | None
    closed_at: str | None
    last_message_at: str | None
    attachments: list[AttachmentOut]
    known_issue_id: int | None = Field(description="published as this known issue")
    affected_count: int = Field(description="people affected, while it is a known issue")
    merged_into: int | None = Field(description="closed as a duplicate of this known issue")


class TicketPageOut(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class TicketCountOut(BaseModel):
    count: int


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    author: UserOut
    body: str
    internal: bool
    created_at: str
    client_id: str | None
    attachments: list[AttachmentOut]


class MessagePageOut(BaseModel):
    items: list[MessageOut]
    has_more: bool


class ReadMarkerOut(BaseModel):
    user: UserOut
    message_id: int
    at: str


class ReadMarkersOut(BaseModel):
    items: list[ReadMarkerOut]


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["status"]
    id: int
    ticket_id: int
    actor: UserOut
    from_: Status = Field(alias="from")
    to: Status
    note: str | None
    at: str


class FieldChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    field: Literal["title", "description", "category", "location", "priority"]
    from_: str | None = Field(
        None, alias="from", description="absent for the description, whose text is not copied"
    )
    to: str | None = Field(None, description="absent for the description")


class TicketEditOut(BaseModel):
    kind: Literal["edit"]
    id: int
    ticket_id: int
    actor: UserOut
    changes: list[FieldChangeOut]
    at: str


class MergeOut(BaseModel):
    """Staff only: a duplicate closed into this ticket's known issue."""

    kind: Literal["merge"]
    id: int
    ticket_id: int = Field(description="the duplicate")
    known_issue_id: int
    actor: UserOut
    at: str


class HistoryOut(BaseModel):
    items: list[
        Annotated[StatusChangeOut | TicketEditOut | MergeOut, Field(discriminator="kind")]
    ]


class EventOut(BaseModel):
    type: Literal["event"]
    id: int
    room: str
    kind: str
    data: dict[str, Any]
    at: str


class ActivityOut(BaseModel):
    items: list[EventOut]


class ErrorDetail(BaseModel):
    code: str
    detail: str
    field: str | None = None
    allowed: list[str] | None = Field(None, description="moves the workflow allows (409)")
    retry_after: int | None = Field(None, description="seconds to wait (429)")


class ErrorOut(BaseModel):
    error: ErrorDetail
    ticket: TicketOut | None = Field(None, description="the current ticket, on a stale version")


class StaffOut(BaseModel):
    items: list[UserOut]


class AccountOut(UserOut):
    """What an admin sees of an account (never its password hash)."""

    email: str | None
    email_confirmed: bool
    is_active: bool
    university_account: bool = Field(description="signs in through the university's provider")
    created_at: str


class AccountPageOut(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None


class AuditEntryOut(BaseModel):
    id: int
    action: AuditAction
    actor: UserOut
    target: UserOut | None
    details: dict[str, Any] = Field(
        description="a role change: from, to; an account made: role; mail sent again: mail_id"
    )
    client_address: str | None
    at: str


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    broker: Literal["ok", "unavailable"]
    node: str


class KnownIssueNewsOut(BaseModel):
    body: str
    at: str


class KnownIssueOut(BaseModel):
    """A known issue as anyone signed in sees it: never its reporter, never its ticket."""

    id: int
    public_title: str
    public_note: str | None
    building: str | None
    status: Status
    affected_count: int
    affected_by_me: bool = Field(description="whether you said you are affected")
    published_at: str
    updated_at: str
    last_update: KnownIssueNewsOut | None = Field(description="what the helpdesk said last")


class KnownIssuePageOut(BaseModel):
    items: list[KnownIssueOut]


class KnownIssueDetailOut(KnownIssueOut):
    updates: list[KnownIssueNewsOut] = Field(description="oldest first")


class BulkResultOut(BaseModel):
    id: int
    status: int = Field(description="200, or the status the ticket alone would have got")
    ticket: TicketOut | None = None
    error: ErrorDetail | None = None


class BulkOut(BaseModel):
    results: list[BulkResultOut]


class DuplicatesOut(BaseModel):
    tickets: list[TicketOut]
    known_issues: list[KnownIssueOut]


class SavedFilterOut(BaseModel):
    id: int
    name: str
    query: str = Field(description="the board's query string: status=open&q=wifi")


class SavedFiltersOut(BaseModel):
    items: list[SavedFilterOut]
