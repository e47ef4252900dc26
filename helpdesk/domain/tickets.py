"""Tickets: reporting, listing, editing, the status workflow and assignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import Q

from ..errors import Conflict, Forbidden, StaleVersion, ValidationFailed
from ..models import Category, Priority, Status, StatusChange, Ticket, User, seconds_between
from .access import require_staff, visible_ticket
from .events import EventLog, ticket_audience
from .serialize import ticket_json, user_ref
from .workflow import check_transition

REPORTER_EDITABLE = frozenset({"title", "description", "category", "location"})
STAFF_EDITABLE = REPORTER_EDITABLE | {"priority"}


@dataclass(frozen=True)
class TicketDraft:
    title: str
    description: str
    category: Category
    location: str | None = None
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True)
class TicketFilters:
    """A board or list query; `assignee` is a user id, or 0 for 'nobody'."""

    statuses: tuple[Status, ...] = ()
    category: Category | None = None
    assignee: int | None = None
    q: str | None = None
    limit: int = 50
    cursor: int | None = None
    closed_after: datetime | None = None


@dataclass(frozen=True)
class TicketPage:
    items: list[Ticket]
    next_cursor: str | None


def _clean_location(location: str | None) -> str | None:
    return location.strip() or None if location is not None else None


async def create_ticket(log: EventLog, reporter: User, draft: TicketDraft) -> Ticket:
    async with log.change() as change:
        ticket = await Ticket.create(
            reporter=reporter,
            title=draft.title,
            description=draft.description,
            category=draft.category,
            location=_clean_location(draft.location),
            priority=draft.priority,
            created_at=change.now,
            updated_at=change.now,
            using_db=change.connection,
        )
        ticket.reporter = reporter
        ticket.assignee = None
        change.emit(ticket_audience(ticket), "ticket.created", ticket_json(ticket))
    return ticket


async def list_tickets(user: User, filters: TicketFilters) -> TicketPage:
    """Newest first by id, so pages stay exact while new tickets arrive at the top."""
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
    if filters.cursor is not None:
        query = query.filter(id__lt=filters.cursor)
    rows = await query.order_by("-id").limit(filters.limit + 1)
    items = rows[: filters.limit]
    more = len(rows) > filters.limit
    return TicketPage(items, str(items[-1].id) if more and items else None)


def _mentions(text: str) -> Q:
    """Tickets whose title, description or location contain `text`, ignoring case.

    On SQLite, LIKE already ignores case exactly as far as UPPER() does (ASCII letters), so it
    is used as it stands: Tortoise's `icontains` wraps each column in UPPER(), copying every
    text it reads, a quarter of the time of a search that matches nothing.
    """
    sqlite = connections.get("default").capabilities.dialect == "sqlite"
    lookup = "contains" if sqlite else "icontains"
    columns = ("title", "description", "location")
    return Q(*(Q(**{f"{column}__{lookup}": text}) for column in columns), join_type=Q.OR)


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
        for name in changed:
            setattr(ticket, name, changes[name])
        ticket.version += 1
        ticket.updated_at = change.now
        await ticket.save(
            update_fields=[*changed, "version", "updated_at"], using_db=change.connection
        )
        change.emit(
            ticket_audience(ticket), "ticket.updated", {**ticket_json(ticket), "changed": changed}
        )
    return ticket


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
        source = ticket.status
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
    return ticket


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


async def status_history(user: User, ticket_id: int) -> list[StatusChange]:
    await visible_ticket(user, ticket_id)
    return await StatusChange.filter(ticket_id=ticket_id).select_related("actor").order_by("id")
