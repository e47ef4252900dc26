"""The live layer over a real Hypercorn, with the `websockets` client, as browsers would use it."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from helpdesk.models import Role
from tests.live.helpers import FrameReader, events_of
from tests.live.server import LiveServer, Person, prepare_database, server_env

pytestmark = pytest.mark.live
STAFF = {"sam": Role.STAFF, "ada": Role.ADMIN}
REPORTERS = [f"student{n}" for n in range(80)]  # two fresh ones per test


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    env = server_env(root, chat_messages="1000")  # traffic here is scripted, not typed
    prepare_database(env, {**STAFF, **dict.fromkeys(REPORTERS, Role.USER)})
    live = LiveServer(root, env).start()
    yield live
    live.stop()


_next_reporter = iter(REPORTERS)


@pytest.fixture
async def people(server):
    """A fresh reporter (each test its own), another reporter, and a staff member, signed in."""
    crowd = [
        Person(server, next(_next_reporter)),
        Person(server, next(_next_reporter)),
        Person(server, "sam"),
        Person(server, "ada"),
    ]
    for person in crowd:
        await person.login()
    yield crowd
    for person in crowd:
        await person.close()


async def report(person: Person, **fields) -> dict:
    body = {
        "title": "Radiator cold",
        "description": "Dorm B 214 is freezing",
        "category": "facilities",
        **fields,
    }
    response = await person.http.post("/api/v1/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_reporter_and_staff_chat_live_both_ways(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    r_tab, s_tab = await reporter.socket(), await staff.socket()
    await r_tab.join(room)
    await s_tab.join(room)
    await r_tab.send({"op": "say", "room": room, "body": "It is 14 degrees", "client_id": "r1"})
    heard = await s_tab.until("event", kind="message.created")
    assert heard["data"]["body"] == "It is 14 degrees"
    await s_tab.send({"op": "typing", "room": room})
    assert (await r_tab.until("typing"))["user"]["id"] == staff.id
    await s_tab.send(
        {"op": "say", "room": room, "body": "Engineer is on the way", "client_id": "s1"}
    )
    answer = await r_tab.until(
        lambda f: (
            f.get("kind") == "message.created"
            and f["room"] == room
            and f["data"]["author"]["id"] == staff.id
        )
    )
    assert answer["data"]["body"] == "Engineer is on the way"
    assert answer["data"]["author"]["role"] == "staff"
    assert (await s_tab.until("ack"))["client_id"] == "s1"


async def test_board_sees_tickets_created_over_http(people):
    reporter, _, staff, _ = people
    board = await staff.socket()
    await board.join("board")
    ticket = await report(reporter, title="Projector dead in S1")
    created = await board.until(
        lambda f: f.get("kind") == "ticket.created" and f["data"]["id"] == ticket["id"]
    )
    assert created["data"]["title"] == "Projector dead in S1"


async def test_reporter_gets_status_changes_in_ticket_and_user_rooms(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    tab = await reporter.socket()
    await tab.join(f"ticket:{ticket['id']}")
    response = await staff.http.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active", "note": "Taking it"}
    )
    assert response.status_code == 200
    rooms = set()
    while rooms != {f"ticket:{ticket['id']}", f"user:{reporter.id}"}:
        frame = await tab.until("event", kind="ticket.status_changed")
        assert frame["data"]["to"] == "active"
        assert frame["data"]["note"] == "Taking it"
        rooms.add(frame["room"])


async def test_reconnect_replays_exactly_what_was_missed(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    tab = await reporter.socket()
    _, joined = await tab.join(room)
    await tab.send({"op": "say", "room": room, "body": "before", "client_id": "b"})
    ack = await tab.until("ack")
    last_seen = ack["event_id"]
    await reporter.sockets.pop().close()

    path = f"/api/v1/tickets/{ticket['id']}/messages"
    for n in range(5):
        await staff.http.post(path, json={"body": f"public {n}"})
        await staff.http.post(path, json={"body": f"internal {n}", "internal": True})

    tab = await reporter.socket()
    replayed, joined = await tab.join(room, since=last_seen)
    bodies = [e["data"]["body"] for e in events_of(replayed, "message.created")]
    assert bodies == [f"public {n}" for n in range(5)]
    assert joined["last_event_id"] == replayed[-1]["id"]
    await staff.http.post(path, json={"body": "live again"})
    live = await tab.until("event", kind="message.created")
    assert live["data"]["body"] == "live again"
    seen = json.dumps(tab.seen)
    assert not [n for n in range(5) if f"internal {n}" in seen]


async def test_retry_after_a_lost_ack_is_not_a_duplicate(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    frame = {"op": "say", "room": room, "body": "sent once", "client_id": "offline-1"}
    first = await reporter.socket()
    await first.send(frame)
    await first.until("ack")
    await reporter.sockets.pop().close()
    second = await reporter.socket()
    await second.send(frame)
    await second.until("ack")
    listed = (await staff.http.get(f"/api/v1/tickets/{ticket['id']}/messages")).json()
    assert [m["body"] for m in listed["items"]] == ["sent once"]


async def test_handshake_refusals(server, people):
    reporter = people[0]
    with pytest.raises(InvalidStatus) as anonymous:
        async with connect(server.ws_url):
            pass
    assert anonymous.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as hijack:
        await reporter.socket(origin="https://evil.example")
    assert hijack.value.response.status_code == 403
    same_site = await reporter.socket(origin=server.url)
    await same_site.send({"op": "ping"})
    assert await same_site.next() == {"type": "pong"}


@pytest.mark.parametrize("role_index", [0, 1, 2, 3])
async def test_room_authorization_for_every_role(people, role_index):
    reporter = people[0]
    ticket = await report(reporter)
    person = people[role_index]
    expected = {
        f"ticket:{ticket['id']}": role_index in (0, 2, 3),
        "board": role_index in (2, 3),
        f"user:{reporter.id}": role_index == 0,
        "ticket:987654321": False,
    }
    tab = await person.socket()
    for room, allowed in expected.items():
        await tab.send({"op": "join", "room": room})
        answer = await tab.until(lambda f: f.get("type") in ("joined", "error"))
        assert (answer["type"] == "joined") == allowed, (room, answer)


async def test_bad_frames_over_the_wire(people):
    tab = await people[0].socket()
    for raw in (
        "nope",
        "[]",
        '{"op": 1}',
        '{"op": "say", "room": "board", "body": "x"}',
        b"",
        b"\x00binary",
    ):
        await tab.send(raw)
        assert (await tab.next())["type"] == "error"
    await tab.send({"op": "ping"})
    assert await tab.next() == {"type": "pong"}


async def test_frames_over_64_kib_close_with_1009(people):
    tab = await people[0].socket(max_size=None)
    await tab.send(json.dumps({"op": "ping", "pad": "x" * (65 * 1024)}))
    with pytest.raises(ConnectionClosed) as closed:
        await tab.next()
    assert closed.value.rcvd.code == 1009


async def test_a_flood_is_rate_limited_then_closed(people):
    tab = await people[0].socket()
    for _ in range(120):
        await tab.send('{"op": "ping"}')
    closed = await tab.until_closed()
    kinds = [frame["type"] for frame in tab.seen]
    assert closed.rcvd.code == 1008
    assert "error" in kinds
    fresh = await people[0].socket()
    await fresh.send({"op": "ping"})
    assert await fresh.next() == {"type": "pong"}, "one socket's flood does not lock out others"


@pytest.fixture
def small_outbox_server(tmp_path):
    env = server_env(tmp_path, ws_queue_size="16")
    prepare_database(env, {"sam": Role.STAFF, "rita": Role.USER})
    live = LiveServer(tmp_path, env).start()
    yield live
    live.stop()


async def test_a_slow_consumer_is_dropped_with_a_recoverable_code(small_outbox_server):
    live = small_outbox_server
    staff = await Person(live, "sam").login()
    try:
        # A tab that stops reading: once the kernel's buffers are full, frames pile up in the
        # server's bounded outbox until it gives up on the tab.
        stuck = await staff.socket(max_queue=1, compression=None, ping_interval=None)
        await stuck.join("board")
        noise = secrets.token_urlsafe(7500)  # incompressible, about 10 KB per event
        for _ in range(4):  # 240 tickets, 480 frames (board and own room): about 5 MB
            await asyncio.gather(*(report(staff, description=noise) for _ in range(60)))
        closed = await stuck.until_closed()
        assert closed.rcvd.code == 1013
        assert len(stuck.seen) < 480, "the tab was dropped, not fed everything"
        healthy = await staff.socket()
        await healthy.send({"op": "ping"})
        assert await healthy.next() == {"type": "pong"}
    finally:
        await staff.close()


@pytest.fixture
def capped_server(tmp_path):
    """A server that lets one user open 3 sockets and a socket be in 4 rooms."""
    env = server_env(tmp_path, ws_sockets_per_user="3", ws_rooms_per_socket="4")
    prepare_database(env, {"sam": Role.STAFF, "rita": Role.USER})
    live = LiveServer(tmp_path, env).start()
    yield live
    live.stop()


async def admitted_once_a_place_is_free(person: Person, seconds: float = 5) -> FrameReader:
    """A socket, once the server has noticed that one of the person's others closed."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await person.socket()
        except InvalidStatus as refused:
            if refused.response.status_code != 429 or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.05)


async def test_sockets_past_the_per_user_cap_are_refused_at_the_handshake(capped_server):
    laptop = await Person(capped_server, "rita").login()
    phone = await Person(capped_server, "rita").login()
    sam = await Person(capped_server, "sam").login()
    try:
        burst = await asyncio.gather(
            *(browser.socket() for browser in (laptop, phone) for _ in range(5)),
            return_exceptions=True,
        )
        tabs = [outcome for outcome in burst if isinstance(outcome, FrameReader)]
        refusals = [outcome for outcome in burst if not isinstance(outcome, FrameReader)]
        assert len(tabs) == 3, "the cap counts the user's sockets, whichever session opened them"
        assert all(isinstance(refused, InvalidStatus) for refused in refusals), refusals
        assert {refused.response.status_code for refused in refusals} == {429}
        assert b"close a tab" in refusals[0].response.body
        for tab in [*tabs, await sam.socket()]:
            await tab.send({"op": "ping"})
            assert await tab.until("pong") == {"type": "pong"}
        await (laptop.sockets or phone.sockets).pop().close()
        again = await admitted_once_a_place_is_free(phone)
        await again.send({"op": "ping"})
        assert await again.until("pong") == {"type": "pong"}
    finally:
        for person in (laptop, phone, sam):
            await person.close()


async def test_a_join_past_the_room_cap_is_refused_and_the_socket_stays_open(capped_server):
    sam = await Person(capped_server, "sam").login()
    try:
        tickets = [await report(sam, title=f"Door {n} sticks") for n in range(3)]
        tab = await sam.socket()  # in its user's room from the start: one of the four
        await tab.join("board")
        for ticket in tickets[:2]:
            await tab.join(f"ticket:{ticket['id']}")
        third = f"ticket:{tickets[2]['id']}"
        await tab.send({"op": "join", "room": third})
        refused = await tab.until(lambda f: f.get("type") in ("joined", "error"))
        assert refused == {
            "type": "error",
            "code": "too_large",
            "detail": "this socket is in 4 rooms already: leave one first",
        }
        await tab.join("board")  # a room it is in already is no new one
        await tab.send({"op": "leave", "room": f"ticket:{tickets[0]['id']}"})
        await tab.until("left")
        await tab.join(third)
        await tab.send({"op": "ping"})
        assert await tab.until("pong") == {"type": "pong"}
    finally:
        await sam.close()


@pytest.fixture
def own_server(tmp_path):
    env = server_env(tmp_path)
    prepare_database(env, {"sam": Role.STAFF})
    live = LiveServer(tmp_path, env).start()
    yield live
    live.stop(signal.SIGKILL)


async def test_shutdown_closes_every_socket_with_1001(own_server):
    live = own_server
    sam = await Person(live, "sam").login()
    tabs = [await sam.socket() for _ in range(3)]
    for tab in tabs:
        await tab.join("board")
    live.process.send_signal(signal.SIGTERM)
    for tab in tabs:
        with pytest.raises(ConnectionClosed) as closed:
            await tab.next(wait=10)
        assert closed.value.rcvd.code == 1001
    assert await asyncio.to_thread(live.process.wait, 20) == 0
    await sam.http.aclose()


def test_hypercorn_pings_sockets_and_limits_frames():
    from helpdesk.server import hypercorn_config

    config = hypercorn_config()
    assert config.websocket_ping_interval and config.websocket_ping_interval <= 30
    assert config.websocket_max_message_size == 64 * 1024


async def test_two_tabs_of_one_person_both_get_events(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    tabs = [await reporter.socket(), await reporter.socket()]
    await staff.http.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "hello"})
    for tab in tabs:
        frame = await tab.until("event", kind="message.created")
        assert frame["room"] == f"user:{reporter.id}"


async def test_nothing_lost_or_doubled_while_reconnecting_under_traffic(people):
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    path = f"/api/v1/tickets/{ticket['id']}/messages"

    async def chatter() -> None:
        for n in range(40):
            await staff.http.post(path, json={"body": f"m{n}"})
            await asyncio.sleep(0.005)

    traffic = asyncio.create_task(chatter())
    received: list[str] = []
    since = 0
    while not traffic.done() or len(received) < 40:
        tab = await reporter.socket()
        replayed, joined = await tab.join(room, since=since)
        live = await tab.nothing_more(within=0.05)
        batch = replayed + [f for f in live if f.get("type") == "event" and f["room"] == room]
        for frame in batch:
            if frame["kind"] == "message.created":
                received.append(frame["data"]["body"])
        ids = [frame["id"] for frame in batch]
        assert ids == sorted(ids)
        since = max([joined["last_event_id"], *ids])
        await reporter.sockets.pop().close()
    await traffic
    assert received == [f"m{n}" for n in range(40)]


@pytest.mark.parametrize("client_offers_its_window", [True, False])
async def test_compression_uses_small_windows_and_long_chats_survive_it(
    people, client_offers_its_window
):
    """Frames are compressed with 4 KiB windows, each message on its own (an idle socket then
    holds no compressor); a client that did not agree to a small window keeps its own."""
    reporter, _, staff, _ = people
    ticket = await report(reporter)
    room = f"ticket:{ticket['id']}"
    offer = ClientPerMessageDeflateFactory(client_max_window_bits=client_offers_its_window or None)
    r_tab = await reporter.socket(compression=None, extensions=[offer])
    s_tab = await staff.socket()
    agreed = reporter.sockets[-1].response.headers["Sec-WebSocket-Extensions"]
    assert "server_max_window_bits=12" in agreed
    assert "server_no_context_takeover" in agreed
    assert ("client_max_window_bits=12" in agreed) is client_offers_its_window
    await r_tab.join(room)
    await s_tab.join(room)
    # The same long text twice: the second copy refers back further than a 4 KiB window.
    # Letters at both ends: the server strips surrounding whitespace from a message.
    body = "x" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(4500)) + "x"
    for n in range(2):
        await r_tab.send({"op": "say", "room": room, "body": body, "client_id": f"long{n}"})
        await s_tab.send({"op": "say", "room": room, "body": body, "client_id": f"back{n}"})
    heard = [(await r_tab.until("event", kind="message.created"))["data"]["body"] for _ in range(4)]
    assert heard == [body] * 4
