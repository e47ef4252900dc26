"""Tickets: reporting, listing, editing, the status workflow and assignment."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tortoise import connections
from tortoise.expressions import Case, F, Q, RawSQL, When
from tortoise.queryset import QuerySet

from ..allowances import Allowances
from ..errors import Conflict, Forbidden, StaleVersion, ValidationFailed
from ..models import (
    Category,
    Priority,
    Status,
    StatusChange,
    Ticket,
    TicketEdit,
    TicketMerge,
    User,
    seconds_between,
)
from ..sql import dialect_of
from .access import require_staff, visible_ticket
from .attachments import UploadLimits, claim, claimable
from .events import Change, EventLog, ticket_audience
from .fields import MAX_ID
from .registration import require_confirmed
from .search import ticket_matches
from .serialize import ticket_json, user_ref
from .workflow import check_transition

REPORTER_EDITABLE = frozenset({"title", "description", "category", "location"})
STAFF_EDITABLE = REPORTER_EDITABLE | {"priority"}
# Long, free, often private text: the ticket alone holds it. A history that kept each old
# version would keep what a reporter took out (a phone number, a name) for everyone on the
# ticket to read, in its table and in the event log: so an edit records only that it changed.
NAMED_ONLY = frozenset({"description"})
Sort = Literal["newest", "activity", "waiting", "priority"]


@dataclass(frozen=True)
class TicketDraft:
    title: str
    description: str
    category: Category
    location: str | None = None
    priority: Priority = Priority.NORMAL
    reporter_id: int | None = None  # staff logging a call: the student it is for
    attachment_ids: tuple[int, ...] = ()  # the photos and PDFs uploaded with the report


@dataclass(frozen=True)
class TicketFilters:
    """A board or list query; `assignee` is a user id, or 0 for 'nobody'."""

    statuses: tuple[Status, ...] = ()
    category: Category | None = None
    assignee: int | None = None
    q: str | None = None
    limit: int = 50
    cursor: str | None = None
    closed_after: datetime | None = None
    sort: Sort = "newest"


@dataclass(frozen=True)
class TicketPage:
    items: list[Ticket]
    next_cursor: str | None


def _clean_location(location: str | None) -> str | None:
    return location.strip() or None if location is not None else None


async def create_ticket(
    log: EventLog,
    allowances: Allowances,
    user: User,
    draft: TicketDraft,
    upload_limits: UploadLimits | None = None,
) -> Ticket:
    """Report a problem: one's own, or (staff only) on behalf of a reporter who phoned in.
    Reporters have an hourly allowance, so a script or a stuck form cannot flood every board;
    staff, who log calls for others, have none. Files uploaded for the report (within
    `upload_limits`) are attached to it."""
    require_confirmed(user)
    reporter = await _reporter_for(user, draft.reporter_id)
    files = []
    if draft.attachment_ids:
        if upload_limits is None:
            raise ValueError("reports with files need the upload limits")
        files = await claimable(user, draft.attachment_ids, upload_limits, ticket=None)
    if not user.is_staff:
        await allowances.report.take(f"user:{user.id}")
    async with log.change() as change:
        ticket = await Ticket.create(
            reporter=reporter,
            title=draft.title,
            description=draft.description,
            category=draft.category,
            location=_clean_location(draft.location),
            priority=draft.priority,
            attachments=[each.describe() for each in files] or None,
            created_at=change.now,
            updated_at=change.now,
            using_db=change.connection,
        )
        await claim(
            change.connection,
            files,
            ticket_id=ticket.id,
            message_id=None,
            internal=False,
            now=change.now,
        )
        ticket.reporter = reporter
        ticket.assignee = None
        change.emit(ticket_audience(ticket), "ticket.created", ticket_json(ticket))
    return ticket


async def _reporter_for(user: User, reporter_id: int | None) -> User:
    if reporter_id is None or reporter_id == user.id:
        return user
    if not user.is_staff:
        raise Forbidden(
            "only staff may report a problem on someone else's behalf", field="reporter_id"
        )
    reporter = await User.get_or_none(id=reporter_id, is_active=True)
    if reporter is None:
        raise ValidationFailed("choose an active account to report for", field="reporter_id")
    return reporter


async def list_tickets(user: User, filters: TicketFilters) -> TicketPage:
    """One page in the filters' order; the cursor is the last row's sort key, so pages stay
    exact (nothing repeated, nothing skipped) while tickets arrive and change."""
    order = ORDERS[filters.sort]
    query = _matching(user, filters)
    if order.key is not None:
        query = query.annotate(sort_key=order.key)
    if filters.cursor is not None:
        query = query.filter(order.after(_decode_cursor(order, filters.cursor)))
    rows = await query.order_by(*order.columns).limit(filters.limit + 1)
    items = rows[: filters.limit]
    more = len(rows) > filters.limit
    return TicketPage(items, order.cursor(items[-1]) if more and items else None)


async def count_tickets(user: User, filters: TicketFilters) -> int:
    """How many tickets `list_tickets` pages through for these filters, counted by the database."""
    return await _matching(user, replace(filters, cursor=None)).count()


def _matching(user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The tickets this user may see that pass the filters, in no particular order."""
    query = Ticket.all().select_related("reporter", "assignee")
    if not user.is_staff:
        query = query.filter(reporter_id=user.id)
    if filters.statuses:
        query = query.filter(status__in=list(filters.statuses))
    if filters.category is not None:
        query = query.filter(category=filters.category)
    if filters.assignee == 0:
        query = query.filter(assignee_id__isnull=True)
    elif filters.assignee is not None:
        query = query.filter(assignee_id=filters.assignee)
    if filters.q:
        query = query.filter(_mentions(filters.q))
    if filters.closed_after is not None:
        query = query.filter(closed_at__gte=filters.closed_after)
    return query


def _mentions(text: str) -> Q:
    """Tickets whose number is `text`, or whose title, description, location, or reporter's
    name or username contain it, ignoring case (helpdesk/domain/search.py: from its indexes)."""
    return ticket_matches(text)


@dataclass(frozen=True)
class Order:
    """A sort of the ticket list: its key per row, and how a cursor names a row of it.

    Every order ends on the id, so rows with equal keys still have one exact place. `key` is
    None where the id alone is the key.
    """

    key: Any
    columns: tuple[str, ...]
    descending: bool

    def cursor(self, ticket: Ticket) -> str:
        if self.key is None:
            return str(ticket.id)
        key = ticket.sort_key  # type: ignore[attr-defined]
        if isinstance(key, datetime | str):
            key = _micros(key)
        return f"{key}.{ticket.id}"

    def after(self, position: tuple[Any, int]) -> Q:
        key, ticket_id = position
        later = "lt" if self.descending else "gt"
        if self.key is None:
            return Q(**{f"id__{later}": ticket_id})
        key_later = "lt" if self.columns[0].startswith("-") else "gt"
        return Q(
            Q(**{f"sort_key__{key_later}": key}),
            Q(Q(sort_key=key), Q(**{f"id__{later}": ticket_id})),
            join_type=Q.OR,
        )


# The newest activity: the later of the last change to the ticket and its last public reply.
_ACTIVITY = Case(
    When(last_message_at__gt=F("updated_at"), then=F("last_message_at")),
    default=F("updated_at"),
)
# Written out rather than as Case(When(...)): bound numbers in a CASE are typed as text by
# PostgreSQL. The values are the enum's own, so nothing outside the code reaches this text.
_RANKS = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
_URGENCY = RawSQL(
    'CASE "ticket"."priority" '
    + " ".join(f"WHEN '{p.value}' THEN {len(_RANKS) - n}" for n, p in enumerate(_RANKS))
    + " ELSE 0 END"
)
ORDERS: dict[Sort, Order] = {
    "newest": Order(None, ("-id",), descending=True),
    "activity": Order(_ACTIVITY, ("-sort_key", "-id"), descending=True),
    "waiting": Order(None, ("id",), descending=False),
    "priority": Order(_URGENCY, ("-sort_key", "id"), descending=False),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime | str) -> int:
    if isinstance(moment, str):  # SQLite hands an expression's timestamp back as its text
        moment = datetime.fromisoformat(moment)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _decode_cursor(order: Order, cursor: str) -> tuple[Any, int]:
    """The position a cursor names, in the form the database compares; 400 if it is not one
    this order hands out."""
    parts = cursor.split(".")
    wanted = 1 if order.key is None else 2
    if len(parts) != wanted or not all(part.isdigit() and len(part) <= 18 for part in parts):
        raise ValidationFailed("this cursor belongs to another sort; start again", field="cursor")
    ticket_id = int(parts[-1])
    if ticket_id > MAX_ID:
        raise ValidationFailed("cursor out of range", field="cursor")
    if order.key is None:
        return None, ticket_id
    key = int(parts[0])
    if order.key is _ACTIVITY:
        try:
            moment = _EPOCH + timedelta(microseconds=key)
        except OverflowError:
            raise ValidationFailed("cursor out of range", field="cursor") from None
        return dialect_of(connections.get("default")).value(moment), ticket_id
    return key, ticket_id


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise StaleVersion(
            f"the ticket changed since you loaded it (now version {ticket.version})",
            current=ticket_json(ticket),
        )


async def update_ticket(
    log: EventLog, user: User, ticket_id: int, changes: dict[str, Any], version: int | None
) -> Ticket:
    """Edit fields; reporters only their open or active tickets and not the priority."""
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        if not user.is_staff:
            if ticket.status == Status.CLOSED:
                raise Conflict("a closed ticket is read-only; reopen it to change it")
            refused = sorted(set(changes) - REPORTER_EDITABLE)
            if refused:
                raise Forbidden(f"only staff may change {', '.join(refused)}", field=refused[0])
        _check_version(ticket, version)
        if "location" in changes:
            changes["location"] = _clean_location(changes["location"])
        changed = sorted(name for name, value in changes.items() if getattr(ticket, name) != value)
        if not changed:
            return ticket
        record = [_field_change(name, getattr(ticket, name), changes[name]) for name in changed]
        for name in changed:
            setattr(ticket, name, changes[name])
        ticket.version += 1
        ticket.updated_at = change.now
        await ticket.save(
            update_fields=[*changed, "version", "updated_at"], using_db=change.connection
        )
        await TicketEdit.create(
            ticket=ticket, actor=user, changes=record, at=change.now, using_db=change.connection
        )
        change.emit(
            ticket_audience(ticket),
            "ticket.updated",
            {**ticket_json(ticket), "changed": changed, "changes": record, "actor": user_ref(user)},
        )
    return ticket


def _field_change(name: str, old: Any, new: Any) -> dict[str, Any]:
    """One field of an edit, as its history shows it: old and new value, or only its name."""
    if name in NAMED_ONLY:
        return {"field": name}
    return {"field": name, "from": _plain(old), "to": _plain(new)}


def _plain(value: Any) -> str | None:
    return value.value if isinstance(value, Category | Priority) else value


async def change_status(
    log: EventLog,
    user: User,
    ticket_id: int,
    target: Status,
    note: str | None,
    version: int | None,
) -> Ticket:
    """Move along the workflow, audited; taking an unassigned ticket assigns it to the taker."""
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        _check_version(ticket, version)
        await move_status(change, user, ticket, target, note)
    return ticket


async def move_status(
    change: Change,
    user: User,
    ticket: Ticket,
    target: Status,
    note: str | None,
    *,
    workflow: bool = True,
) -> None:
    """The move itself, in the caller's change: the ticket locked and loaded with its people.
    A merge closes its duplicate in its own change, from open as from active, so it checks
    the move itself (`workflow=False`)."""
    source = ticket.status
    if workflow:
        check_transition(user, source, target)
    ticket.status = target
    ticket.version += 1
    ticket.updated_at = change.now
    if target == Status.CLOSED:
        ticket.closed_at = change.now
        ticket.resolution_seconds = seconds_between(change.now, ticket.created_at)
    elif source == Status.CLOSED:
        ticket.closed_at = None
        ticket.resolution_seconds = None
    if source == Status.OPEN and ticket.assignee_id is None and user.is_staff:
        ticket.assignee = user
    await ticket.save(
        update_fields=[
            "status",
            "version",
            "updated_at",
            "closed_at",
            "resolution_seconds",
            "assignee_id",
        ],
        using_db=change.connection,
    )
    await StatusChange.create(
        ticket=ticket,
        actor=user,
        from_status=source,
        to_status=target,
        note=note or None,
        at=change.now,
        using_db=change.connection,
    )
    change.emit(
        ticket_audience(ticket),
        "ticket.status_changed",
        {
            **ticket_json(ticket),
            "from": source.value,
            "to": target.value,
            "note": note or None,
            "actor": user_ref(user),
        },
    )


async def assign_ticket(
    log: EventLog, user: User, ticket_id: int, assignee_id: int | None, version: int | None
) -> Ticket:
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        require_staff(user)
        _check_version(ticket, version)
        assignee = None
        if assignee_id is not None:
            assignee = await User.get_or_none(id=assignee_id, is_active=True)
            if assignee is None or not assignee.is_staff:
                raise ValidationFailed("assign to an active staff member", field="assignee_id")
        if ticket.assignee_id == assignee_id:
            return ticket
        previous = ticket.assignee_id
        ticket.assignee = assignee
        ticket.version += 1
        ticket.updated_at = change.now
        await ticket.save(
            update_fields=["assignee_id", "version", "updated_at"], using_db=change.connection
        )
        rooms = ticket_audience(ticket)
        if previous is not None:
            rooms.append(f"user:{previous}")
        change.emit(rooms, "ticket.assigned", {**ticket_json(ticket), "actor": user_ref(user)})
    return ticket


async def ticket_history(
    user: User, ticket_id: int
) -> list[StatusChange | TicketEdit | TicketMerge]:
    """The status changes, the edits of the details and (for staff) the duplicates merged into
    its known issue, oldest first; whoever may see the ticket may see the rest of it, since an
    edit holds only what the ticket itself shows. A reporter is never told of others' tickets."""
    await visible_ticket(user, ticket_id)
    moves = await StatusChange.filter(ticket_id=ticket_id).select_related("actor").order_by("id")
    edits = await TicketEdit.filter(ticket_id=ticket_id).select_related("actor").order_by("id")
    merges: list[TicketMerge] = []
    if user.is_staff:
        merges = (
            await TicketMerge.filter(known_issue__ticket_id=ticket_id)
            .select_related("actor")
            .order_by("id")
        )
    return sorted([*moves, *edits, *merges], key=lambda item: item.at)
