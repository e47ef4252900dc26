"""Known issues: one broken thing, many reporters.

Staff publish a ticket as a known issue under a public title and note, never its reporter's own
words or name. Anyone signed in sees the known issues of campus and may say they are affected
too; staff post public updates, and everyone affected hears them and the issue's status changes
(see `helpdesk/consumers/known_issues.py`, which tells them in batches). A ticket about the same
outage is merged: closed as a duplicate, its reporter made one of the affected.

What is public is exactly `public_json`: the same for every caller and every path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ..allowances import Allowances
from ..encoding import dumps, isoformat
from ..errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from ..models import (
    Affected,
    FanOut,
    KnownIssue,
    KnownIssueUpdate,
    Status,
    Ticket,
    TicketMerge,
    User,
)
from ..sql import Database
from .access import require_staff, visible_ticket
from .events import (
    BOARD_ROOM,
    KNOWN_ISSUES_ROOM,
    Change,
    EventLog,
    ticket_audience,
    ticket_room,
)
from .fields import in_id_range
from .search import similar_known_issues, similar_tickets
from .serialize import ticket_json, user_ref
from .tickets import move_status

RECENTLY_FIXED = timedelta(days=3)  # a fixed issue stays listed this long, saying it is fixed
LIST_LIMIT = 50


def building_of(location: str | None) -> str | None:
    """The building of a location, as the analytics and the search spell it (helpdesk/sql.py):
    the part before the first comma, 'Dorm B' of 'Dorm B, room 214'."""
    if not location:
        return None
    return location.split(",", 1)[0].strip() or None


@dataclass(frozen=True)
class Listed:
    """A known issue with what its public form shows: its ticket's status and count, the last
    update, and whether the caller said they are affected."""

    issue: KnownIssue
    status: Status
    affected_count: int
    last_update: KnownIssueUpdate | None
    affected_by_me: bool | None = None


def public_json(listed: Listed) -> dict[str, Any]:
    """The known issue as anyone may see it: no reporter, no ticket text, no staff name.
    `affected_by_me` is the caller's own (absent from what is broadcast)."""
    issue, update = listed.issue, listed.last_update
    body: dict[str, Any] = {
        "id": issue.id,
        "public_title": issue.public_title,
        "public_note": issue.public_note,
        "building": issue.building,
        "status": listed.status.value,
        "affected_count": listed.affected_count,
        "published_at": isoformat(issue.published_at),
        "updated_at": isoformat(issue.updated_at),
        "last_update": (
            {"body": update.body, "at": isoformat(update.created_at)}
            if update is not None
            else None
        ),
    }
    if listed.affected_by_me is not None:
        body["affected_by_me"] = listed.affected_by_me
    return body


async def _listed(issues: list[KnownIssue], user: User | None) -> list[Listed]:
    """Each issue with its ticket's status and count, its newest update, and (with `user`)
    whether they are affected: four queries for any number of issues."""
    if not issues:
        return []
    ids = [issue.id for issue in issues]
    tickets = {
        row["id"]: row
        for row in await Ticket.filter(id__in=[issue.ticket_id for issue in issues]).values(  # type: ignore[attr-defined]
            "id", "status", "affected_count"
        )
    }
    newest: dict[int, KnownIssueUpdate] = {}
    for update in await KnownIssueUpdate.filter(known_issue_id__in=ids).order_by("id"):
        newest[update.known_issue_id] = update  # type: ignore[attr-defined]
    mine: set[int] = set()
    if user is not None:
        mine = set(
            await Affected.filter(known_issue_id__in=ids, user_id=user.id).values_list(
                "known_issue_id", flat=True
            )
        )
    listed = []
    for issue in issues:
        ticket = tickets[issue.ticket_id]  # type: ignore[attr-defined]
        listed.append(
            Listed(
                issue,
                Status(ticket["status"]),
                ticket["affected_count"],
                newest.get(issue.id),
                None if user is None else issue.id in mine,
            )
        )
    return listed


async def list_known_issues(
    user: User, *, location: str | None = None, q: str | None = None, now: datetime
) -> list[dict[str, Any]]:
    """The published issues of campus, newest news first; with `q`, the ones whose words match
    it best (same building first); with `location`, that building's. Fixed ones stay listed a
    few days, saying so."""
    building = building_of(location)
    query = KnownIssue.filter(withdrawn_at__isnull=True)
    if q:
        ids = await similar_known_issues(q, building, limit=LIST_LIMIT)
        found = {issue.id: issue for issue in await query.filter(id__in=ids)}
        issues = [found[each] for each in ids if each in found]
    else:
        if building:
            query = query.filter(building__iexact=building)
        issues = await query.order_by("-updated_at", "-id").limit(LIST_LIMIT)
    listed = await _listed(issues, user)
    shown = [
        each
        for each in listed
        if each.status != Status.CLOSED or each.issue.updated_at >= now - RECENTLY_FIXED
    ]
    return [public_json(each) for each in shown]


async def duplicates_of(user: User, ticket_id: int) -> tuple[list[Ticket], list[dict[str, Any]]]:
    """For the board: open tickets that may report the same thing (same building and category,
    similar words, opened within days of it), and known issues it may belong to."""
    require_staff(user)
    ticket = await visible_ticket(user, ticket_id)
    ids = await similar_tickets(ticket.id)
    found = {
        each.id: each
        for each in await Ticket.filter(id__in=ids).select_related("reporter", "assignee")
    }
    issue_ids = [
        each
        for each in await similar_known_issues(ticket.title, building_of(ticket.location))
        if each != ticket.known_issue_id
    ]
    issues = {each.id: each for each in await KnownIssue.filter(id__in=issue_ids)}
    listed = await _listed([issues[each] for each in issue_ids if each in issues], user)
    return [found[each] for each in ids if each in found], [public_json(each) for each in listed]


async def public_issue(user: User, issue_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One known issue and every update posted on it, oldest first."""
    issue = await _published(issue_id)
    [listed] = await _listed([issue], user)
    updates = await KnownIssueUpdate.filter(known_issue_id=issue.id).order_by("id")
    return public_json(listed), [
        {"body": each.body, "at": isoformat(each.created_at)} for each in updates
    ]


async def _published(issue_id: int, connection: BaseDBAsyncClient | None = None) -> KnownIssue:
    if not in_id_range(issue_id):
        raise NotFound("no such known issue")
    query = KnownIssue.filter(id=issue_id, withdrawn_at__isnull=True)
    if connection is not None:
        query = query.using_db(connection)
    issue = await query.first()
    if issue is None:
        raise NotFound("no such known issue")
    return issue


async def publish(
    log: EventLog, user: User, ticket_id: int, public_title: str, public_note: str | None
) -> tuple[dict[str, Any], bool]:
    """Publish the ticket as a known issue, or change what it says (published again after a
    withdrawal, it keeps who was affected). Its reporter is affected from the start."""
    require_staff(user)
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        if ticket.merged_into_id is not None:
            raise Conflict("this ticket was merged into a known issue; publish that one instead")
        issue = await KnownIssue.get_or_none(ticket_id=ticket.id).using_db(change.connection)
        created = issue is None
        if issue is None:
            issue = await KnownIssue.create(
                ticket_id=ticket.id,
                public_title=public_title,
                public_note=public_note or None,
                building=building_of(ticket.location),
                published_by_id=user.id,
                published_at=change.now,
                updated_at=change.now,
                using_db=change.connection,
            )
        else:
            issue.public_title, issue.public_note = public_title, public_note or None
            issue.withdrawn_at, issue.updated_at = None, change.now
            await issue.save(using_db=change.connection)
        await _add_affected(change, issue, ticket, ticket.reporter_id, merged=False)
        ticket.known_issue_id = issue.id
        await (
            Ticket.filter(id=ticket.id).using_db(change.connection).update(known_issue_id=issue.id)
        )
        await _refresh_count(change, ticket)
        listed = Listed(issue, ticket.status, ticket.affected_count, await _last_update(issue))
        body = public_json(listed)
        change.emit([KNOWN_ISSUES_ROOM], "known_issue.published", body)
        change.emit(
            ticket_audience(ticket),
            "ticket.published",
            {**ticket_json(ticket), "known_issue": body},
        )
    return {**body, "affected_by_me": await _is_affected(issue, user)}, created


async def withdraw(log: EventLog, user: User, ticket_id: int) -> None:
    """Take the ticket's known issue down (published by mistake, or about something private);
    who was affected is kept, should it be published again."""
    require_staff(user)
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        issue = await KnownIssue.get_or_none(
            ticket_id=ticket.id, withdrawn_at__isnull=True
        ).using_db(change.connection)
        if issue is None:
            raise NotFound("this ticket is not published as a known issue")
        issue.withdrawn_at = issue.updated_at = change.now
        await issue.save(update_fields=["withdrawn_at", "updated_at"], using_db=change.connection)
        ticket.known_issue_id = None
        await Ticket.filter(id=ticket.id).using_db(change.connection).update(known_issue_id=None)
        change.emit([KNOWN_ISSUES_ROOM], "known_issue.withdrawn", {"id": issue.id})
        change.emit(ticket_audience(ticket), "ticket.withdrawn", ticket_json(ticket))


async def set_affected(
    log: EventLog, allowances: Allowances, user: User, issue_id: int, *, affected: bool
) -> tuple[dict[str, Any], bool]:
    """Say one is affected ("me too"), or take it back; returns the issue as the caller sees it
    and whether anything changed (saying it twice changes nothing)."""
    await allowances.chat.take(f"user:{user.id}")
    async with log.change() as change:
        issue = await _published(issue_id, change.connection)
        ticket = await _issue_ticket(issue, change.connection)
        if affected:
            changed = await _add_affected(change, issue, ticket, user.id, merged=False)
        else:
            changed = bool(
                await Affected.filter(known_issue_id=issue.id, user_id=user.id)
                .using_db(change.connection)
                .delete()
            )
        if changed:
            await _refresh_count(change, ticket)
            _emit_count(change, issue, ticket)
        listed = Listed(
            issue, ticket.status, ticket.affected_count, await _last_update(issue), affected
        )
    return public_json(listed), changed


async def post_update(log: EventLog, user: User, issue_id: int, body: str) -> dict[str, Any]:
    """Tell everyone affected what is going on ("the technician arrives at 3 pm")."""
    require_staff(user)
    async with log.change() as change:
        issue = await _published(issue_id, change.connection)
        ticket = await _issue_ticket(issue, change.connection)
        update = await KnownIssueUpdate.create(
            known_issue_id=issue.id,
            author_id=user.id,
            body=body,
            created_at=change.now,
            using_db=change.connection,
        )
        issue.updated_at = change.now
        await issue.save(update_fields=["updated_at"], using_db=change.connection)
        public = public_json(Listed(issue, ticket.status, ticket.affected_count, update))
        change.emit([KNOWN_ISSUES_ROOM], "known_issue.update_posted", public)
        change.emit(
            [ticket_room(ticket.id), BOARD_ROOM],
            "known_issue.update_posted",
            {**public, "ticket_id": ticket.id, "author": user_ref(user)},
            staff_only=True,
        )
        await tell_affected(change.connection, issue, "known_issue.update_posted", public)
    return {**public, "affected_by_me": await _is_affected(issue, user)}


async def tell_affected(
    connection: BaseDBAsyncClient, issue: KnownIssue, kind: str, data: dict[str, Any]
) -> None:
    """Queue `kind` for everyone affected by `issue`, told in batches by the fan-out chore so
    that thousands of people never hold up one transaction."""
    await FanOut.create(known_issue_id=issue.id, kind=kind, data=dumps(data), using_db=connection)


async def merge(
    log: EventLog, user: User, ticket_id: int, into: int, note: str | None = None
) -> Ticket:
    """Close an open or active ticket as a duplicate of known issue `into`: its history says
    where to follow, the issue's ticket lists it, and its reporter is affected."""
    require_staff(user)
    async with log.change() as change:
        ticket = await visible_ticket(user, ticket_id, with_people=True, for_update=True)
        issue = await _published(into, change.connection)
        if issue.ticket_id == ticket.id:  # type: ignore[attr-defined]
            raise ValidationFailed(
                "a ticket cannot be merged into its own known issue", field="into"
            )
        if ticket.status not in (Status.OPEN, Status.ACTIVE):
            raise InvalidTransition(
                "only open or active tickets can be merged into a known issue",
                allowed=[],
            )
        words = f"Closed as a duplicate of known issue #{issue.id}: {issue.public_title}"
        ticket.merged_into_id = issue.id
        await (
            Ticket.filter(id=ticket.id).using_db(change.connection).update(merged_into_id=issue.id)
        )
        note = f"{words}. {note}" if note else words
        await move_status(change, user, ticket, Status.CLOSED, note, workflow=False)
        await TicketMerge.create(
            ticket_id=ticket.id,
            known_issue_id=issue.id,
            actor_id=user.id,
            at=change.now,
            using_db=change.connection,
        )
        target = await _issue_ticket(issue, change.connection)
        if await _add_affected(change, issue, target, ticket.reporter_id, merged=True):
            await _refresh_count(change, target)
            _emit_count(change, issue, target)
        last = await _last_update(issue)
        public = public_json(Listed(issue, target.status, target.affected_count, last))
        merged = {
            **ticket_json(ticket),
            "known_issue": public,
            "into_ticket_id": target.id,
            "actor": user_ref(user),
        }
        change.emit([ticket_room(target.id), BOARD_ROOM], "ticket.merged", merged, staff_only=True)
    return ticket


async def on_status_change(
    connection: BaseDBAsyncClient, ticket_id: int, data: dict[str, Any]
) -> None:
    """A known issue's ticket moved along the workflow: everyone affected hears it (fixed, or
    being worked on again). Called by the consumer, in its transaction."""
    issue = (
        await KnownIssue.filter(ticket_id=ticket_id, withdrawn_at__isnull=True)
        .using_db(connection)
        .first()
    )
    if issue is None:
        return
    ticket = await _issue_ticket(issue, connection)
    status = Status(data["to"])
    issue.updated_at = ticket.updated_at
    await issue.save(update_fields=["updated_at"], using_db=connection)
    last = await _last_update(issue)
    public = public_json(Listed(issue, status, ticket.affected_count, last))
    await tell_affected(connection, issue, "known_issue.status_changed", public)


async def _is_affected(issue: KnownIssue, user: User) -> bool:
    return await Affected.exists(known_issue_id=issue.id, user_id=user.id)


async def _issue_ticket(issue: KnownIssue, connection: BaseDBAsyncClient) -> Ticket:
    return await Ticket.get(id=issue.ticket_id).using_db(connection)  # type: ignore[attr-defined]


async def _last_update(issue: KnownIssue) -> KnownIssueUpdate | None:
    return await KnownIssueUpdate.filter(known_issue_id=issue.id).order_by("-id").first()


async def _add_affected(
    change: Change, issue: KnownIssue, ticket: Ticket, user_id: int, *, merged: bool
) -> bool:
    """Whether the person was newly added: once per person and issue, however they came, and
    two requests at once add one row (the unique index decides, not a read before)."""
    added = await Database(change.connection).rows(
        "INSERT INTO affected (known_issue_id, user_id, merged, created_at) "
        "VALUES (:issue, :user, :merged, :now) "
        "ON CONFLICT (known_issue_id, user_id) DO NOTHING RETURNING id",
        issue=issue.id,
        user=user_id,
        merged=merged,
        now=change.now,
    )
    return bool(added)


async def _refresh_count(change: Change, ticket: Ticket) -> None:
    """The ticket's count, recounted in the transaction that changed its rows: an increment
    could drift where two changes race on PostgreSQL."""
    count = (
        await Affected.filter(known_issue__ticket_id=ticket.id).using_db(change.connection).count()
    )
    await Ticket.filter(id=ticket.id).using_db(change.connection).update(affected_count=count)
    ticket.affected_count = count


def _emit_count(change: Change, issue: KnownIssue, ticket: Ticket) -> None:
    """The new count on everyone's list and on the board's card."""
    change.emit(
        [KNOWN_ISSUES_ROOM],
        "known_issue.affected",
        {"id": issue.id, "affected_count": ticket.affected_count},
    )
    change.emit(
        [BOARD_ROOM, ticket_room(ticket.id)],
        "ticket.affected",
        {"id": ticket.id, "known_issue_id": issue.id, "affected_count": ticket.affected_count},
        staff_only=True,
    )
