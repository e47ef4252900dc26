"""Who is mailed about what, and when: the notification consumer of the event log.

On each ticket event it notes who may need telling (a pending notification, due after the
delay, marked `watched` when that person had the ticket open right then). When a group of one
person's notes on one ticket comes due, it becomes one mail, unless they saw it all in the app
meanwhile (open then, or a read marker past the replies). Nobody is mailed about their own
action, and an internal note never becomes a note for a reporter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from itertools import groupby

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ..config import Settings
from ..consumers import Consumer
from ..domain.access import can_see_ticket
from ..domain.events import LoggedEvent
from ..domain.serialize import user_ref
from ..encoding import loads
from ..models import (
    KnownIssue,
    Message,
    NotificationKind,
    NotificationState,
    OutboxMail,
    PendingNotification,
    ReadMarker,
    Ticket,
    User,
)
from .compose import (
    MailSettings,
    PublicIssue,
    Update,
    compose_digest,
    compose_known_issue_mail,
    compose_ticket_mail,
)
from .outbox import enqueue

RECENT_MESSAGES = 5
DIGEST_AFTER = timedelta(days=1)
# Told in each affected person's own room by the known issues' fan-out (consumers/known_issues.py).
KNOWN_ISSUE_NEWS = frozenset({"known_issue.update_posted", "known_issue.status_changed"})


class _Taken(Exception):
    """Another runner closed these notes first."""


Watching = Callable[[str], Awaitable[set[int]]]  # room -> ids of people with it open now


async def nobody(_room: str) -> set[int]:
    return set()


class Notifier(Consumer):
    name = "mail-notifier"
    room_prefix = "ticket:"

    def __init__(
        self,
        settings: Settings,
        watching: Watching = nobody,
        mailed: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.mail_settings = MailSettings.from_settings(settings)
        self.delay = timedelta(seconds=settings.notify_delay_seconds)
        self.watching = watching
        self.mailed = mailed  # wakes the sender

    def wants(self, event) -> bool:  # type: ignore[no-untyped-def]
        """Ticket events, and the news of known issues in the rooms of the people affected."""
        if event.room.startswith("user:"):
            return event.kind in KNOWN_ISSUE_NEWS
        return super().wants(event)

    async def handle(self, events: list[LoggedEvent], connection: BaseDBAsyncClient) -> None:
        for event in events:
            notes = (
                await self._news(event, connection)
                if event.kind in KNOWN_ISSUE_NEWS
                else await self._notes(event, connection)
            )
            for note in notes:
                await note.save(using_db=connection)

    async def _news(
        self, event: LoggedEvent, connection: BaseDBAsyncClient
    ) -> list[PendingNotification]:
        """A known issue's news for the one affected person whose room it was told in."""
        data = loads(event.data)
        issue = await KnownIssue.get_or_none(id=data["id"]).using_db(connection)
        recipient = await User.get_or_none(id=int(event.room.partition(":")[2])).using_db(
            connection
        )
        if issue is None or recipient is None or not _mailable(recipient):
            return []
        at = datetime.fromisoformat(event.at)
        update = data.get("last_update") if event.kind == "known_issue.update_posted" else None
        return [
            PendingNotification(
                recipient_id=recipient.id,
                ticket_id=issue.ticket_id,  # type: ignore[attr-defined]
                event_id=event.id,
                kind=NotificationKind.KNOWN_ISSUE,
                actor_id=issue.published_by_id,  # type: ignore[attr-defined]
                body=update["body"] if update else None,
                to_status=None if update else data["status"],
                at=at,
                due_at=at + self.delay,
            )
        ]

    async def _notes(
        self, event: LoggedEvent, connection: BaseDBAsyncClient
    ) -> list[PendingNotification]:
        data = loads(event.data)
        ticket_id = data.get("ticket_id") if event.kind == "message.created" else data.get("id")
        ticket = await Ticket.get_or_none(id=ticket_id).using_db(connection)
        if ticket is None:
            return []
        at = datetime.fromisoformat(event.at)
        common = {"ticket_id": ticket.id, "event_id": event.id, "at": at, "due_at": at + self.delay}
        found: list[int] = []
        if event.kind == "message.created":
            author = data["author"]["id"]
            if author == ticket.reporter_id and ticket.assignee_id not in (None, author):
                found.append(ticket.assignee_id)
            elif author != ticket.reporter_id and not data["internal"]:
                found.append(ticket.reporter_id)
            extra = {"kind": NotificationKind.REPLY, "message_id": data["id"], "body": data["body"]}
            actor = author
        elif event.kind == "ticket.status_changed":
            actor = data["actor"]["id"]
            if actor != ticket.reporter_id:
                found.append(ticket.reporter_id)
            extra = {
                "kind": NotificationKind.STATUS,
                "body": data.get("note"),
                "from_status": data["from"],
                "to_status": data["to"],
            }
        elif event.kind == "ticket.assigned":
            actor = data["actor"]["id"]
            assignee = (data.get("assignee") or {}).get("id")
            if assignee not in (None, actor):
                found.append(assignee)
            extra = {"kind": NotificationKind.ASSIGNED}
        else:
            return []
        if not found:
            return []
        watchers = await self.watching(event.room)
        recipients = {
            user.id: user
            for user in await User.filter(id__in=found).using_db(connection)
            if _mailable(user)
        }
        return [
            PendingNotification(
                recipient_id=user_id, actor_id=actor, watched=user_id in watchers, **common, **extra
            )
            for user_id in found
            if user_id in recipients
        ]

    async def tick(self, now: datetime) -> None:
        due = await PendingNotification.filter(
            state=NotificationState.PENDING, due_at__lte=now
        ).values_list("recipient_id", "ticket_id")
        for recipient_id in sorted({recipient for recipient, _ in due}):
            recipient = await User.get(id=recipient_id)
            tickets = sorted({ticket for person, ticket in due if person == recipient_id})
            if not recipient.email or recipient.email_notifications == "off":
                await self._close(recipient_id, NotificationState.DROPPED)
            elif recipient.email_notifications == "digest":
                await self._digest(recipient, now)
            else:
                for ticket_id in tickets:
                    if not await self._mail_ticket(recipient, ticket_id, now):
                        break  # over the hourly cap: the rest waits

    async def _close(self, recipient_id: int, state: NotificationState) -> None:
        await PendingNotification.filter(
            recipient_id=recipient_id, state=NotificationState.PENDING
        ).update(state=state)

    async def _unseen(
        self, recipient: User, notes: list[PendingNotification]
    ) -> list[PendingNotification]:
        """The notes the person has not seen in the app: not open then, not read since."""
        marker = await ReadMarker.get_or_none(user_id=recipient.id, ticket_id=notes[0].ticket_id)
        read_up_to = marker.message_id if marker else 0
        return [
            note
            for note in notes
            if not note.watched and not (note.message_id and note.message_id <= read_up_to)
        ]

    async def _over_cap(self, recipient: User, now: datetime) -> bool:
        sent = await OutboxMail.filter(
            recipient_id=recipient.id, created_at__gt=now - timedelta(hours=1)
        ).count()
        return sent >= self.settings.notify_per_hour

    async def _mail_ticket(self, recipient: User, ticket_id: int, now: datetime) -> bool:
        """One mail for everything pending on the ticket; False when the hourly cap is reached."""
        notes = await PendingNotification.filter(
            recipient_id=recipient.id, ticket_id=ticket_id, state=NotificationState.PENDING
        ).order_by("event_id")
        if not notes:
            return True
        unseen = await self._unseen(recipient, notes)
        if not unseen:
            await self._settle(notes, NotificationState.SEEN)
            return True
        if await self._over_cap(recipient, now):
            return False
        ticket = await Ticket.get(id=ticket_id).select_related("reporter", "assignee")
        if not can_see_ticket(recipient, ticket):  # affected by its known issue, no more
            issue = await _public_issue(ticket)
            message = compose_known_issue_mail(
                self.mail_settings, recipient, issue, await self._updates(unseen)
            )
            await self._settle(notes, NotificationState.MAILED, message, recipient, ticket_id)
            return True
        recent = (
            await Message.filter(ticket_id=ticket_id, internal=False)
            .select_related("author")
            .order_by("-id")
            .limit(RECENT_MESSAGES)
        )
        message = compose_ticket_mail(
            self.mail_settings, recipient, ticket, await self._updates(unseen), recent[::-1]
        )
        await self._settle(notes, NotificationState.MAILED, message, recipient, ticket_id)
        return True

    async def _digest(self, recipient: User, now: datetime) -> None:
        """Everything pending in one mail, a day after the oldest of it."""
        notes = await PendingNotification.filter(
            recipient_id=recipient.id, state=NotificationState.PENDING
        ).order_by("ticket_id", "event_id")
        if not notes or min(note.at for note in notes) > now - DIGEST_AFTER:
            return
        groups = []
        issues = []
        for ticket_id, group in groupby(notes, key=lambda note: note.ticket_id):
            unseen = await self._unseen(recipient, list(group))
            if not unseen:
                continue
            ticket = await Ticket.get(id=ticket_id)
            if can_see_ticket(recipient, ticket):
                groups.append((ticket, await self._updates(unseen)))
            else:
                issues.append((await _public_issue(ticket), await self._updates(unseen)))
        if not groups and not issues:
            await self._settle(notes, NotificationState.SEEN)
            return
        message = compose_digest(self.mail_settings, recipient, groups, issues)
        await self._settle(notes, NotificationState.MAILED, message, recipient, None)

    async def _updates(self, notes: list[PendingNotification]) -> list[Update]:
        actors = {user.id: user for user in await User.filter(id__in={n.actor_id for n in notes})}
        replies = {note.message_id for note in notes if note.message_id is not None}
        files = {
            message.id: tuple(message.attachments or ())
            for message in await Message.filter(id__in=replies).only("id", "attachments")
        }
        return [
            Update(
                kind=note.kind.value,
                actor=user_ref(actors[note.actor_id]),
                at=note.at,
                body=note.body,
                from_status=note.from_status,
                to_status=note.to_status,
                attachments=files.get(note.message_id, ()),
            )
            for note in notes
        ]

    async def _settle(
        self,
        notes: list[PendingNotification],
        state: NotificationState,
        message: EmailMessage | None = None,
        recipient: User | None = None,
        ticket_id: int | None = None,
    ) -> None:
        """Close the notes and keep the mail in one transaction; when another runner closed
        them first, nothing is kept."""
        ids = [note.id for note in notes]
        try:
            async with in_transaction("default") as connection:
                closed = (
                    await PendingNotification.filter(id__in=ids, state=NotificationState.PENDING)
                    .using_db(connection)
                    .update(state=state)
                )
                if closed != len(ids):
                    raise _Taken
                if message is not None and recipient is not None:
                    kind = "ticket" if ticket_id is not None else "digest"
                    await enqueue(
                        connection, message, recipient=recipient, ticket_id=ticket_id, kind=kind
                    )
        except _Taken:
            return
        if message is not None:
            self.mailed()


def _mailable(user: User) -> bool:
    return bool(user.email) and user.is_active and user.email_notifications != "off"


async def _public_issue(ticket: Ticket) -> PublicIssue:
    """The known issue a ticket is published as, in the words everyone may read."""
    issue = await KnownIssue.get(ticket_id=ticket.id)
    return PublicIssue(issue.id, issue.public_title, issue.building, ticket.status)
