"""The consumer mechanism: a cursor moved with what was written, once, under a lease."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from helpdesk.broker import Broker, MemoryBroker
from helpdesk.broker.redis import RedisBroker
from helpdesk.consumers import Consumer, Runner
from helpdesk.domain.events import LoggedEvent
from helpdesk.models import ConsumerCursor, Event
from tests.conftest import create_ticket
from tests.services import SHARED_REDIS, redis_reachable


class Tally(Consumer):
    """Writes one event row per ticket event it handles, in the batch's transaction."""

    room_prefix = "ticket:"

    def __init__(self, tag: str, *, name: str = "tally") -> None:
        self.name = name
        self.tag = tag
        self.fail_next = False
        self.before_write: asyncio.Barrier | None = None

    async def handle(self, events: list[LoggedEvent], connection: BaseDBAsyncClient) -> None:
        if self.before_write is not None:
            await self.before_write.wait()
        for event in events:
            await Event.create(
                room=f"tally:{self.tag}", kind="handled", data=str(event.id), using_db=connection
            )
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the process died here")


def runner(broker: Broker, *work: Consumer, lease_seconds: float = 30.0) -> Runner:
    return Runner(broker, "test", work, poll_seconds=0.02, lease_seconds=lease_seconds)


async def handled() -> list[int]:
    rows = Event.filter(room__startswith="tally:").order_by("id")
    return [int(each) for each in await rows.values_list("data", flat=True)]


async def ticket_event_ids() -> list[int]:
    return list(
        await Event.filter(room__startswith="ticket:").order_by("id").values_list("id", flat=True)
    )


async def position(name: str = "tally") -> int:
    return (await ConsumerCursor.get(name=name)).position


async def test_the_cursor_moves_with_what_the_consumer_wrote(app, cast):
    here = runner(app.broker, Tally("a"))
    await here.prepare()
    await create_ticket(cast.reporter.client)
    await create_ticket(cast.reporter.client, title="Printer jam")
    newest = (await Event.all().order_by("-id").first()).id
    await here.round()
    assert await handled() == await ticket_event_ids()
    assert len(await handled()) == 2
    assert await position() == newest
    await here.round()
    assert len(await handled()) == 2, "its own rows are not events it wants"


async def test_a_new_consumer_starts_at_the_end_of_the_log(app, cast):
    await create_ticket(cast.reporter.client)
    here = runner(app.broker, Tally("a"))
    await here.prepare()
    await here.round()
    assert await handled() == []


async def test_a_crash_inside_handle_loses_nothing_and_does_nothing_twice(app, cast):
    tally = Tally("a")
    here = runner(app.broker, tally)
    await here.prepare()
    await create_ticket(cast.reporter.client)
    before = await position()
    tally.fail_next = True
    with pytest.raises(RuntimeError, match="died"):
        await here.round()
    assert await handled() == []
    assert await position() == before
    await here.round()
    await here.round()
    assert await handled() == await ticket_event_ids()
    assert len(await handled()) == 1


class Overtaken(Tally):
    """Another runner commits the same batch while this one is still handling it."""

    async def handle(self, events: list[LoggedEvent], connection: BaseDBAsyncClient) -> None:
        await super().handle(events, connection)
        await (
            ConsumerCursor.filter(name=self.name)
            .using_db(connection)
            .update(position=events[-1].id)
        )


async def test_a_batch_whose_cursor_moved_meanwhile_is_rolled_back(app, cast):
    here = runner(app.broker, Overtaken("a"))
    await here.prepare()
    await create_ticket(cast.reporter.client)
    before = await position()
    assert await here.step(here.consumers[0]) == 0
    assert await handled() == []
    assert await position() == before


@pytest.fixture(params=["memory", "redis"])
async def two_processes(request):
    """Two processes' brokers: on memory:// each its own (no shared lease), or one Redis."""
    if request.param == "memory":
        yield MemoryBroker(), MemoryBroker()
        return
    redis_reachable(SHARED_REDIS)
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    brokers = (RedisBroker(SHARED_REDIS, namespace), RedisBroker(SHARED_REDIS, namespace))
    for broker in brokers:
        await broker.connect()
    yield brokers
    for broker in brokers:
        await broker.disconnect()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_runners_handling_the_same_batch_at_once_apply_it_once(app, cast, two_processes):
    """Both read the batch and handle it at the same moment (a stalled lease holder and its
    successor): one commits, the other's conditional UPDATE matches nothing and rolls back."""
    first, second = Tally("first"), Tally("second")
    both = asyncio.Barrier(2)
    first.before_write = second.before_write = both
    one, other = runner(two_processes[0], first), runner(two_processes[1], second)
    await one.prepare()
    await other.prepare()
    await create_ticket(cast.reporter.client)
    lost, won = sorted(await asyncio.gather(one.step(first), other.step(second)))
    assert lost == 0 and won > 0
    assert await handled() == await ticket_event_ids()


async def test_two_runners_polling_together_handle_every_event_once(app, cast, two_processes):
    one = runner(two_processes[0], Tally("first"))
    other = runner(two_processes[1], Tally("second"))
    await one.prepare()
    await other.prepare()
    for n in range(5):
        await create_ticket(cast.reporter.client, title=f"Leak {n}")
        await asyncio.gather(one.round(), other.round())
    await asyncio.gather(one.round(), other.round())
    assert await handled() == await ticket_event_ids()
    assert len(await handled()) == 5


@pytest.fixture(params=["memory", "redis"])
async def shared_lease(request):
    """Two processes' brokers that share leases: one MemoryBroker, or two clients of one Redis."""
    if request.param == "memory":
        shared = MemoryBroker()
        yield shared, shared
        return
    redis_reachable(SHARED_REDIS)
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    brokers = (RedisBroker(SHARED_REDIS, namespace), RedisBroker(SHARED_REDIS, namespace))
    for broker in brokers:
        await broker.connect()
    yield brokers
    for broker in brokers:
        await broker.disconnect()


async def test_only_the_lease_holder_runs_and_another_takes_over_when_it_stops(app, shared_lease):
    one = runner(shared_lease[0], Tally("first"), lease_seconds=0.5)
    other = runner(shared_lease[1], Tally("second"), lease_seconds=0.5)
    await one.start()
    await asyncio.wait_for(one.leading.wait(), 1)
    await other.start()
    try:
        assert not await other.lease.hold(), "the lease is held"
        assert not other.leading.is_set()
        await one.stop()
        await asyncio.wait_for(other.leading.wait(), 0.5)
    finally:
        await other.stop()


async def test_a_lease_whose_holder_vanished_passes_on_once_it_lapses(app, shared_lease):
    vanished = runner(shared_lease[0], Tally("first"), lease_seconds=0.5)
    assert await vanished.lease.hold()  # and then never renews it nor gives it up
    other = runner(shared_lease[1], Tally("second"), lease_seconds=0.5)
    await other.start()
    try:
        await asyncio.wait_for(other.leading.wait(), 1.0)
        assert not await vanished.lease.hold(), "the old holder does not get it back"
    finally:
        await other.stop()
