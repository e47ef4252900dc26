"""Request and response shapes of the JSON API (validated on the way in, documented in OpenAPI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ..domain.fields import (
    MAX_ID,
    Body,
    Category,
    ClientId,
    Cursor,
    Description,
    DisplayName,
    Email,
    Flag,
    Id,
    Location,
    Note,
    Password,
    Priority,
    Role,
    SearchText,
    Status,
    Text,
    Title,
    Username,
    Version,
)
from ..domain.tickets import Sort


class StrictModel(BaseModel):
    """Unknown fields are refused by name rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class RegisterIn(StrictModel):
    username: Username
    password: Password
    display_name: DisplayName | None = None
    email: Email | None = None


class NewUserIn(RegisterIn):
    role: Role = Role.USER


class LoginIn(StrictModel):
    username: Annotated[str, Field(min_length=1, max_length=64), Text]
    password: Password


class PasswordChangeIn(StrictModel):
    current_password: Password
    new_password: Password


class TicketIn(StrictModel):
    title: Title
    description: Description
    category: Category
    location: Location | None = None
    priority: Priority = Priority.NORMAL
    reporter_id: Id | None = Field(
        None, description="staff only: report for this account (a student who phoned in)"
    )


class TicketPatch(StrictModel):
    title: Title | None = None
    description: Description | None = None
    category: Category | None = None
    location: Location | None = None
    priority: Priority | None = None
    version: Version | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent; `location: null` clears it, others may not be null."""
        return {
            name: getattr(self, name)
            for name in self.model_fields_set - {"version"}
            if getattr(self, name) is not None or name == "location"
        }


class StatusIn(StrictModel):
    status: Status
    note: Note | None = None
    version: Version | None = None


class AssignIn(StrictModel):
    assignee_id: Id | None
    version: Version | None = None


class MessageIn(StrictModel):
    body: Body
    internal: Flag = False
    client_id: ClientId | None = None


class ReadIn(StrictModel):
    message_id: Id


class UserActiveIn(StrictModel):
    is_active: Flag


class TicketQuery(BaseModel):
    status: str | None = Field(None, description="comma-separated: open,active,closed")
    category: Category | None = None
    q: SearchText | None = None
    assignee: str | None = Field(None, description="a staff user id, `me`, or `none`")
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, Field(max_length=40, pattern=r"^[0-9]+(\.[0-9]+)?$")] | None = None
    sort: Sort = Field(
        "newest",
        description="newest (by number), activity (newest change or reply first), "
        "waiting (oldest first) or priority (most urgent first, then oldest)",
    )
    closed_after: AwareDatetime | None = Field(
        None, description="only tickets closed at or after this moment (ISO 8601, with its offset)"
    )

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: str | None) -> str | None:
        if value is not None:
            for part in value.split(","):
                if part.strip() not in Status._value2member_map_:
                    raise ValueError(f"unknown status {part.strip()!r}; use open, active, closed")
        return value

    @field_validator("closed_after")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:  # year 1 at +14:00, say: no such moment in UTC
            raise ValueError("that moment is out of range") from None

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, value: str | None) -> str | None:
        if value is None or value in ("me", "none"):
            return value
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise ValueError("use a user id, `me` or `none`")
        return value

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None and int(value.rsplit(".", 1)[-1]) > MAX_ID:
            raise ValueError("cursor out of range")
        return value

    def statuses(self) -> tuple[Status, ...]:
        if not self.status:
            return ()
        return tuple(dict.fromkeys(Status(part.strip()) for part in self.status.split(",")))


class MessagesQuery(BaseModel):
    after: Cursor | None = None
    before: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class ActivityQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20


# --- responses (documentation) ----------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Literal["user", "staff", "admin"]


class UserEnvelope(BaseModel):
    user: UserOut


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


class HistoryOut(BaseModel):
    items: list[Annotated[StatusChangeOut | TicketEditOut, Field(discriminator="kind")]]


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
    is_active: bool


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    broker: Literal["ok", "unavailable"]
    node: str
