"""Telling everyone affected by a known issue: its status changes, read off the event log, and
every piece of news, a batch of people at a time.

Thousands of students may be affected by one outage. Their events are written in batches of
`BATCH` people, each batch a short transaction of its own, with the job's position moved by a
conditional UPDATE in it: a chat message waits for one batch at most, never for all of them,
and a restart carries on after the last batch that committed, telling nobody twice.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from ..domain.events import BOARD_ROOM, KNOWN_ISSUES_ROOM, EventLog, LoggedEvent, user_room
from ..domain.known_issues import on_status_change
from ..encoding import loads
from ..models import Affected, FanOut, KnownIssue, Ticket
from .base import Chore, Consumer

BATCH = 500


class KnownIssueNews(Consumer):
    """A known issue's ticket moved along the workflow: queue the news for the affected."""

    name = "known-issue-news"
    room_prefix = BOARD_ROOM

    def wants(self, event) -> bool:  # type: ignore[no-untyped-def]
        return event.room == BOARD_ROOM and event.kind == "ticket.status_changed"

    async def handle(self, events: list[LoggedEvent], connection: BaseDBAsyncClient) -> None:
        for event in events:
            data = loads(event.data)
            if data.get("known_issue_id") is not None:
                await on_status_change(connection, data["id"], data)


class _Overtaken(Exception):
    """Another runner moved the job first."""


class FanOutSender(Chore):
    """Writes each queued piece of news into the rooms of the people affected, in batches."""

    def __init__(self, log: EventLog, batch: int = BATCH) -> None:
        self.log = log
        self.batch = batch

    async def tick(self, now: datetime) -> None:
        while (job := await FanOut.filter(done_at__isnull=True).order_by("id").first()) is not None:
            try:
                await self.step(job, now)
            except _Overtaken:
                return

    async def step(self, job: FanOut, now: datetime) -> None:
        """Tell the next batch of people; the job is done once a batch comes up short."""
        data = loads(job.data)
        async with self.log.change() as change:
            rows = (
                await Affected.filter(known_issue_id=job.known_issue_id, id__gt=job.position)  # type: ignore[attr-defined]
                .using_db(change.connection)
                .order_by("id")
                .limit(self.batch)
                .values_list("id", "user_id")
            )
            skipped = await self._told_already(job, change.connection)
            if job.position == 0 and job.kind == "known_issue.status_changed":
                change.emit([KNOWN_ISSUES_ROOM], job.kind, data)  # every list shows it, once
            for _, user_id in rows:
                if user_id != skipped:
                    change.emit([user_room(user_id)], job.kind, data)
            done = len(rows) < self.batch
            moved = (
                await FanOut.filter(id=job.id, position=job.position)
                .using_db(change.connection)
                .update(
                    position=rows[-1][0] if rows else job.position,
                    done_at=now if done else None,
                )
            )
            if moved != 1:
                raise _Overtaken
            change.tickets_changed = False

    async def _told_already(self, job: FanOut, connection: BaseDBAsyncClient) -> int | None:
        """The issue's own reporter hears of its status changes from their ticket already."""
        if job.kind != "known_issue.status_changed":
            return None
        issue = await KnownIssue.get(id=job.known_issue_id).using_db(connection)  # type: ignore[attr-defined]
        ticket = await Ticket.get(id=issue.ticket_id).using_db(connection)  # type: ignore[attr-defined]
        return ticket.reporter_id  # type: ignore[attr-defined]
