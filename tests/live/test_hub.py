"""The hub and connections without sockets: delivery rules, bounds, and crossing processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpdesk.broker import MemoryBroker
from helpdesk.broker.redis import RedisBroker
from helpdesk.domain.events import LoggedEvent, event_frame
from helpdesk.live.connection import CloseCode, Connection, TokenBucket
from helpdesk.live.hub import Hub
from helpdesk.models import Role, User
from tests.services import SHARED_REDIS, redis_reachable


def person(user_id: int, role: Role = Role.USER) -> User:
    return User(id=user_id, username=f"u{user_id}", display_name=f"U{user_id}", role=role)


def event(event_id: int, room: str, *, staff_only: bool = False) -> LoggedEvent:
    data = '{"id": 1}'
    at = "2026-11-22T00:00:00Z"
    return LoggedEvent(
        event_id,
        room,
        "ticket.updated",
        data,
        staff_only,
        at,
        event_frame(event_id, room, "ticket.updated", data, at),
    )


async def drain(connection: Connection) -> list[str | None]:
    frames = []
    while not connection._outbox.empty():
        frames.append(await connection.next_frame())
    return frames


def test_a_full_outbox_closes_with_a_recoverable_code_and_frees_it():
    connection = Connection(person(1), "s", queue_size=3)
    for n in range(3):
        connection.send(f"frame {n}")
    connection.send("one too many")
    assert connection.close_code == CloseCode.TOO_SLOW
    assert connection._outbox.qsize() == 1  # only the close request is left
    connection.send("after close")
    assert connection._outbox.qsize() == 1


async def test_closing_for_a_flood_still_sends_what_was_queued():
    connection = Connection(person(1), "s", queue_size=10)
    connection.send("pong")
    connection.close(CloseCode.POLICY, "too many frames")
    assert await drain(connection) == ["pong", None]


async def test_signing_out_drops_what_was_queued():
    connection = Connection(person(1), "s", queue_size=10)
    connection.send("private")
    connection.close(CloseCode.SIGNED_OUT, "signed out")
    assert await drain(connection) == [None]


async def test_buffering_during_replay_releases_only_newer_events_in_order():
    connection = Connection(person(1), "s", queue_size=10)
    connection.start_buffering("ticket:1")
    connection.deliver("ticket:1", "e5", 5)
    connection.deliver("ticket:1", "e7", 7)
    connection.deliver("ticket:2", "other room", 6)
    assert await drain(connection) == ["other room"]
    newest = connection.stop_buffering("ticket:1", replayed_up_to=5)
    assert newest == 7
    assert await drain(connection) == ["e7"]


def test_a_buffer_that_grows_too_long_closes_the_socket():
    connection = Connection(person(1), "s", queue_size=2)
    connection.start_buffering("board")
    for n in range(3):
        connection.deliver("board", f"e{n}", n)
    assert connection.close_code == CloseCode.TOO_SLOW


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(rate=1.0, burst=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


async def test_staff_only_events_skip_reporters():
    hub = Hub(MemoryBroker())
    reporter = Connection(person(1), "a", queue_size=10)
    staff = Connection(person(2, Role.STAFF), "b", queue_size=10)
    for connection in (reporter, staff):
        hub.attach(connection)
        hub.join(connection, "ticket:9")
    await hub.publish_events(
        [event(1, "ticket:9", staff_only=True), event(2, "ticket:9")], tickets_changed=True
    )
    assert len(await drain(reporter)) == 1
    assert len(await drain(staff)) == 2


@pytest.fixture(params=["memory", "redis"])
async def two_brokers(request):
    """Two processes' brokers: one shared MemoryBroker, or two clients of the same Redis."""
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


async def settle() -> None:
    """Let a message cross the broker (Redis takes a round trip)."""
    await asyncio.sleep(0.2)


async def test_events_cross_to_another_process_once(two_brokers):
    here, there = Hub(two_brokers[0]), Hub(two_brokers[1])
    await here.start()
    await there.start()
    try:
        local = Connection(person(1, Role.STAFF), "a", queue_size=10)
        remote = Connection(person(2, Role.STAFF), "b", queue_size=10)
        here.attach(local)
        there.attach(remote)
        here.join(local, "board")
        there.join(remote, "board")
        await here.publish_events([event(1, "board")], tickets_changed=True)
        await settle()
        assert await drain(local) == [event(1, "board").frame]
        assert await drain(remote) == [event(1, "board").frame]
        await there.disconnect(user_id=1)
        await settle()
        assert local.close_code == CloseCode.SIGNED_OUT
        assert remote.close_code is None
    finally:
        await here.stop()
        await there.stop()


async def test_only_changes_to_tickets_reach_change_listeners_everywhere(two_brokers):
    """Listeners (the analytics) hear of changes to tickets, not of every chat reply."""
    here, there = Hub(two_brokers[0]), Hub(two_brokers[1])
    heard = {"here": 0, "there": 0}
    here.on_change(lambda: heard.update(here=heard["here"] + 1))
    there.on_change(lambda: heard.update(there=heard["there"] + 1))
    await here.start()
    await there.start()
    try:
        await here.publish_events([event(1, "board")], tickets_changed=False)
        await settle()
        assert heard == {"here": 0, "there": 0}
        await here.publish_events([event(2, "board")], tickets_changed=True)
        await settle()
        assert heard == {"here": 1, "there": 1}
    finally:
        await here.stop()
        await there.stop()


async def test_broadcast_skips_the_sender_everywhere(two_brokers):
    here, there = Hub(two_brokers[0]), Hub(two_brokers[1])
    await here.start()
    await there.start()
    try:
        typist = Connection(person(1), "a", queue_size=10)
        listener = Connection(person(2, Role.STAFF), "b", queue_size=10)
        here.attach(typist)
        there.attach(listener)
        here.join(typist, "ticket:1")
        there.join(listener, "ticket:1")
        await here.broadcast("ticket:1", "typing", skip=typist.id)
        await settle()
        assert await drain(typist) == []
        assert await drain(listener) == ["typing"]
    finally:
        await here.stop()
        await there.stop()


@pytest.mark.parametrize("room", ["ticket:1", "board"])
async def test_detach_forgets_every_room(room):
    hub = Hub(MemoryBroker())
    connection = Connection(person(1), "a", queue_size=10)
    hub.attach(connection)
    hub.join(connection, room)
    assert set(hub.detach(connection)) == {room, "user:1"}
    await hub.publish_events([event(1, room)], tickets_changed=True)
    assert await drain(connection) == []
    assert hub.emptied.is_set()


async def test_claims_give_a_chore_to_one_process_at_a_time(two_brokers):
    first, second = two_brokers
    key = first.key(f"chore-{uuid.uuid4().hex}")
    assert await first.claim(key, 0.3) is True
    assert await second.claim(key, 0.3) is False
    await asyncio.sleep(0.4)
    assert await second.claim(key, 0.3) is True
