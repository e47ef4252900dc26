"""The consumer mechanism: a cursor per consumer, moved in the transaction of what it wrote.

A runner holds a lease so that one process of the cluster runs its consumers. The lease alone
cannot promise that nothing is done twice (a process may stall past its lease and go on): the
cursor can. Each batch is read after the cursor, handled, and the cursor moved with a
conditional UPDATE (`WHERE position = <where it was>`) in one transaction; when another runner
moved it first, no row matches and the whole batch rolls back. A crash before the commit leaves
the cursor where it was, so the batch is handled again, once, after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ..broker import Broker, BrokerUnavailable
from ..domain.events import LoggedEvent
from ..models import ConsumerCursor, Event, utcnow
from .lease import Lease

log = logging.getLogger(__name__)
BATCH_SIZE = 500


class Chore:
    """Work on a timer (due mail, digests, sending): `tick` runs on every round of the runner."""

    async def tick(self, now: datetime) -> None:
        """Do what has come due by `now`, in transactions of the chore's own."""


class Consumer(Chore, ABC):
    """Reads the event log in id order; `handle` writes with `connection`, the transaction in
    which the cursor then moves, so what it wrote and how far it read commit together."""

    name: str
    room_prefix: str = ""  # only events of rooms starting so reach `handle`

    def wants(self, event: Event) -> bool:
        return event.room.startswith(self.room_prefix)

    @abstractmethod
    async def handle(self, events: list[LoggedEvent], connection: BaseDBAsyncClient) -> None:
        """Act on `events` (committed, in id order) through `connection`; raising rolls it back."""


class _Overtaken(Exception):
    """Another runner moved the cursor while this one handled the batch."""


class Runner:
    """Runs consumers and chores every `poll_seconds`, or at once when woken, while it holds
    the lease `name`."""

    def __init__(
        self,
        broker: Broker,
        name: str,
        work: Sequence[Chore],
        *,
        poll_seconds: float,
        lease_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.lease = Lease(broker, name, lease_seconds)
        self.work = list(work)
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.leading = asyncio.Event()  # set while this runner holds the lease
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._cursors_ready: set[str] = set()

    @property
    def consumers(self) -> list[Consumer]:
        return [each for each in self.work if isinstance(each, Consumer)]

    def wake(self) -> None:
        """Run a round now rather than at the next poll (this process just wrote events)."""
        self._woken.set()

    async def prepare(self) -> None:
        """Give each new consumer its cursor, at the end of the log as it stands now."""
        for consumer in self.consumers:
            await self._ensure_cursor(consumer)

    async def start(self) -> None:
        await self.prepare()
        self._task = asyncio.create_task(self._run(), name=f"runner-{self.lease.key}")

    async def stop(self) -> None:
        """Stop and give the lease up, so another process takes over at once."""
        if self._task is not None:
            # Let the round in progress finish: cancelling it inside a transaction could leave
            # a pooled connection mid-query.
            self._stopping = True
            self._woken.set()
            await self._task
            self._task = None
        if self.leading.is_set():
            self.leading.clear()
            await self.lease.release()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if await self.lease.hold():
                    self.leading.set()
                    await self.round()
                else:
                    self.leading.clear()
            except BrokerUnavailable as error:
                self.leading.clear()
                log.warning("cannot reach the broker for the lease %s: %s", self.lease.key, error)
            except Exception:
                log.exception("a round of %s failed; the next one tries again", self.lease.key)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.poll_seconds)
            self._woken.clear()

    async def round(self) -> None:
        """Bring every consumer up to the end of the log, then tick every chore."""
        for consumer in self.consumers:
            while await self.step(consumer) == BATCH_SIZE:
                pass
        now = self.clock()
        for chore in self.work:
            await chore.tick(now)

    async def step(self, consumer: Consumer) -> int:
        """Handle one batch after the cursor; returns how many events it read (0: none new,
        or another runner had them)."""
        await self._ensure_cursor(consumer)
        try:
            async with in_transaction("default") as connection:
                cursor = await ConsumerCursor.get(name=consumer.name).using_db(connection)
                rows = (
                    await Event.filter(id__gt=cursor.position)
                    .order_by("id")
                    .limit(BATCH_SIZE)
                    .using_db(connection)
                )
                if not rows:
                    return 0
                wanted = [LoggedEvent.from_row(row) for row in rows if consumer.wants(row)]
                if wanted:
                    await consumer.handle(wanted, connection)
                moved = (
                    await ConsumerCursor.filter(name=consumer.name, position=cursor.position)
                    .using_db(connection)
                    .update(position=rows[-1].id, updated_at=utcnow())
                )
                if moved != 1:
                    raise _Overtaken
        except _Overtaken:
            log.info("%s: another runner handled these events first", consumer.name)
            return 0
        return len(rows)

    async def _ensure_cursor(self, consumer: Consumer) -> None:
        """A new consumer starts at the end of the log: it acts on what happens from now on,
        not on years of history."""
        if consumer.name in self._cursors_ready:
            return
        if not await ConsumerCursor.exists(name=consumer.name):
            newest = await Event.all().order_by("-id").first().values_list("id", flat=True)
            await ConsumerCursor.get_or_create(
                name=consumer.name, defaults={"position": newest or 0}
            )
        self._cursors_ready.add(consumer.name)
