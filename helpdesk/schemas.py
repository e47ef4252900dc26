"""What every entry point accepts (the API, the pages, the command line) and the one shape they
all show of a person: validated on the way in, so a rule about input holds wherever it arrives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from .domain.fields import (
    MAX_ID,
    AttachmentIds,
    Category,
    ClientId,
    Cursor,
    Description,
    DisplayName,
    Email,
    Flag,
    Id,
    Location,
    MessageText,
    Note,
    OneLineInOrder,
    Password,
    Priority,
    PublicNote,
    Role,
    SearchText,
    Status,
    Text,
    Title,
    Username,
    Version,
)
from .domain.notifications import EmailPreference
from .domain.tickets import Sort, TicketFilters
from .models import User


class StrictModel(BaseModel):
    """Unknown fields are refused by name rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


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


MailedToken = Annotated[str, Field(min_length=1, max_length=128), Text]


class PasswordResetIn(StrictModel):
    login: Annotated[
        str, Field(min_length=1, max_length=254, description="username or email address"), Text
    ]


class PasswordResetConfirmIn(StrictModel):
    token: MailedToken
    new_password: Password


class AddressConfirmIn(StrictModel):
    token: MailedToken


class TicketIn(StrictModel):
    title: Title
    description: Description
    category: Category
    location: Location | None = None
    priority: Priority = Priority.NORMAL
    reporter_id: Id | None = Field(
        None, description="staff only: report for this account (a student who phoned in)"
    )
    attachment_ids: AttachmentIds = []


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
    body: MessageText = Field("", description="may be left out when files are attached")
    internal: Flag = False
    client_id: ClientId | None = None
    attachment_ids: AttachmentIds = []


class ReadIn(StrictModel):
    message_id: Id


class UserPatchIn(StrictModel):
    """What an admin changes about an account: its role, whether it may sign in, or both."""

    role: Role | None = Field(None, description="takes effect at once, on open sockets too")
    is_active: Flag | None = Field(None, description="false signs the account out everywhere")

    @model_validator(mode="after")
    def _something(self) -> UserPatchIn:
        if self.role is None and self.is_active is None:
            raise ValueError("send role, is_active or both")
        return self


class UsersQuery(BaseModel):
    q: SearchText | None = Field(None, description="part of the username, display name or email")
    role: Role | None = None
    cursor: Cursor | None = Field(None, description="`next_cursor` of the page before")
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class AuditQuery(BaseModel):
    cursor: Cursor | None = Field(None, description="`next_cursor` of the page before")
    limit: Annotated[int, Field(ge=1, le=100)] = 50


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

    def filters_for(self, user: User) -> TicketFilters:
        """What the listing is asked for, with `me` and `none` read for this user."""
        assignee: int | None = None
        if self.assignee == "me":
            assignee = user.id
        elif self.assignee == "none":
            assignee = 0
        elif self.assignee is not None:
            assignee = int(self.assignee)
        return TicketFilters(
            statuses=self.statuses(),
            category=self.category,
            assignee=assignee,
            q=self.q.strip() if self.q else None,
            limit=self.limit,
            cursor=self.cursor,
            closed_after=self.closed_after,
            sort=self.sort,
        )


class PublishIn(StrictModel):
    public_title: Title = Field(description="what is broken, in words for everyone on campus")
    public_note: PublicNote | None = Field(None, description="what people should know or do")


class KnownIssuesQuery(BaseModel):
    location: Location | None = Field(None, description="a location: its building's issues")
    q: SearchText | None = Field(None, description="words of a report being written")


class KnownIssueUpdateIn(StrictModel):
    body: PublicNote


class MergeIn(StrictModel):
    into: Id = Field(description="the known issue the ticket duplicates")
    note: Note | None = None


class BulkIn(StrictModel):
    """One action on many tickets from the board: each is applied, or refused, on its own."""

    ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    action: Literal["assign", "merge"]
    assignee_id: Id | None = Field(None, description="assign: to whom (null: nobody)")
    into: Id | None = Field(None, description="merge: into which known issue")

    @model_validator(mode="after")
    def _what_it_needs(self) -> BulkIn:
        if self.action == "merge" and self.into is None:
            raise ValueError("merging needs `into`, the known issue")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("each ticket once")
        return self


class SavedFilterIn(StrictModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), OneLineInOrder
    ]
    query: Annotated[str, Field(max_length=1000), Text] = Field(
        description="the board's query string, as in its address: status=open&q=wifi"
    )

    @field_validator("query")
    @classmethod
    def _board_query(cls, value: str) -> str:
        from urllib.parse import parse_qsl

        try:
            pairs = parse_qsl(value.lstrip("?"), strict_parsing=bool(value.strip("?")))
        except ValueError:
            raise ValueError("not a query string like status=open&q=wifi") from None
        unknown = {name for name, _ in pairs} - set(TicketQuery.model_fields)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)[0]!r}")
        try:
            TicketQuery.model_validate(dict(pairs))
        except ValidationError as error:
            first = error.errors()[0]
            raise ValueError(f"{first['loc'][0]}: {first['msg']}") from None
        return value.lstrip("?")


class MessagesQuery(BaseModel):
    after: Cursor | None = None
    before: Cursor | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class ActivityQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20


EMAIL_CHOICES = (
    "immediate: a mail soon after an update you have not seen in the app; "
    "digest: one mail a day; off: none"
)


class NotificationsIn(StrictModel):
    email: EmailPreference = Field(description=EMAIL_CHOICES)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Literal["user", "staff", "admin"]
