"""The /ws protocol in detail, over Quart's test socket."""

from __future__ import annotations

import json

import pytest
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError

from helpdesk.models import Message
from tests.conftest import create_ticket
from tests.live.helpers import FrameReader, events_of


async def test_handshake_needs_a_session(app, cast):
    with pytest.raises(WebsocketResponseError) as refused:
        async with cast.anonymous.client.websocket("/ws") as socket:
            await socket.receive()
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://localhost", "ws://localhost", "http://localhost:81"]
)
async def test_handshake_refuses_a_foreign_origin(app, cast, origin):
    with pytest.raises(WebsocketResponseError) as refused:
        async with cast.reporter.client.websocket("/ws", headers={"Origin": origin}) as socket:
            await socket.receive()
    assert refused.value.response.status_code == 403


async def test_same_origin_handshake_is_accepted(app, cast):
    async with cast.reporter.client.websocket("/ws", headers={"Origin": "http://localhost"}) as ws:
        reader = FrameReader(ws)
        await reader.send({"op": "ping"})
        assert await reader.next() == {"type": "pong"}


async def test_say_is_stored_broadcast_and_acknowledged(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with (
        cast.reporter.client.websocket("/ws") as reporter_ws,
        cast.staff.client.websocket("/ws") as staff_ws,
    ):
        reporter, staff = FrameReader(reporter_ws), FrameReader(staff_ws)
        await reporter.join(room)
        await staff.join(room)
        await reporter.send({"op": "say", "room": room, "body": "Still cold", "client_id": "c1"})
        ack = await reporter.until("ack")
        message = await Message.get(id=ack["message_id"])
        assert message.body == "Still cold"
        assert ack["client_id"] == "c1"
        assert ack["event_id"] == message.event_id
        event = await staff.until("event", kind="message.created")
        assert event["id"] == ack["event_id"]
        assert event["room"] == room
        assert event["data"]["body"] == "Still cold"
        assert event["data"]["author"]["id"] == cast.reporter.id


async def test_same_client_id_is_stored_once_and_acked_alike(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with cast.reporter.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        frame = {"op": "say", "room": room, "body": "Hello", "client_id": "retry-1"}
        await reader.send(frame)
        first = await reader.until("ack")
        await reader.send(frame)
        second = await reader.until("ack")
    assert first == second
    assert await Message.filter(ticket_id=ticket["id"]).count() == 1


async def test_join_replays_what_was_missed_then_says_joined(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with cast.reporter.client.websocket("/ws") as ws:
        _, joined = await FrameReader(ws).join(room)
    since = joined["last_event_id"]
    for body in ("one", "two"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": body}
        )
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "staff only", "internal": True}
    )
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active"}
    )
    async with cast.reporter.client.websocket("/ws") as ws:
        replayed, joined = await FrameReader(ws).join(room, since=since)
    assert [(e["kind"], e["data"].get("body")) for e in replayed] == [
        ("message.created", "one"),
        ("message.created", "two"),
        ("ticket.status_changed", None),
    ]
    assert [e["id"] for e in replayed] == sorted(e["id"] for e in replayed)
    assert joined["last_event_id"] == replayed[-1]["id"]
    async with cast.staff.client.websocket("/ws") as ws:
        staff_replayed, _ = await FrameReader(ws).join(room, since=since)
    assert "staff only" in [e["data"].get("body") for e in staff_replayed]


async def test_join_without_since_replays_nothing(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    async with cast.reporter.client.websocket("/ws") as ws:
        replayed, joined = await FrameReader(ws).join(f"ticket:{ticket['id']}")
    assert replayed == []
    assert joined["last_event_id"] > 0


ROOMS = {
    # room -> roles that may join it
    "ticket:{mine}": {"reporter", "staff", "admin"},
    "ticket:999999": set(),
    "ticket:abc": set(),
    "board": {"staff", "admin"},
    "user:{reporter}": {"reporter"},
    "lobby": set(),
}


@pytest.mark.parametrize("room_template", sorted(ROOMS))
@pytest.mark.parametrize("role", ["reporter", "other", "staff", "admin"])
async def test_room_authorization(app, cast, role, room_template):
    ticket = await create_ticket(cast.reporter.client)
    room = room_template.format(mine=ticket["id"], reporter=cast.reporter.id)
    async with getattr(cast, role).client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.send({"op": "join", "room": room})
        # The board may get the analytics push for the new ticket first: not an answer.
        answer = await reader.until(lambda frame: frame.get("kind") != "analytics.updated")
    if role in ROOMS[room_template]:
        assert answer["type"] == "joined"
    else:
        assert answer == {"type": "error", "code": "forbidden", "detail": answer["detail"]}


async def test_missing_and_foreign_tickets_answer_alike(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    async with cast.other.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        answers = []
        for room in (f"ticket:{ticket['id']}", "ticket:999999"):
            await reader.send({"op": "join", "room": room})
            answers.append(await reader.next())
    assert answers[0]["code"] == answers[1]["code"] == "forbidden"
    assert answers[0]["detail"].replace(str(ticket["id"]), "N") == answers[1]["detail"].replace(
        "999999", "N"
    )


BAD_FRAMES = [
    ("not json", "bad_request"),
    ("[1, 2, 3]", "bad_request"),
    ('"just a string"', "bad_request"),
    ("{}", "bad_request"),
    ('{"op": "dance"}', "bad_request"),
    ('{"op": "join"}', "bad_request"),
    ('{"op": "join", "room": 42}', "bad_request"),
    ('{"op": "join", "room": "board", "since": "5"}', "bad_request"),
    ('{"op": "join", "room": "board", "since": -1}', "bad_request"),
    ('{"op": "join", "room": "board", "since": 99999999999999999999999}', "bad_request"),
    ('{"op": "say", "room": "ticket:1"}', "bad_request"),
    ('{"op": "say", "room": "ticket:1", "body": ""}', "bad_request"),
    ('{"op": "say", "room": "ticket:1", "body": "hi", "internal": "yes"}', "bad_request"),
    (
        json.dumps({"op": "say", "room": "ticket:1", "body": "x" * 5001, "client_id": "big"}),
        "too_large",
    ),
    ('{"op": "typing", "room": "ticket:1"}', "forbidden"),
    ('{"op": "say", "room": "board", "body": "hi"}', "forbidden"),
]


@pytest.mark.parametrize(("raw", "code"), BAD_FRAMES)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(app, cast, raw, code):
    await create_ticket(cast.reporter.client)
    async with cast.staff.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.send(raw)
        error = await reader.next()
        assert error["type"] == "error"
        assert error["code"] == code
        assert error["detail"]
        await reader.send({"op": "ping"})
        assert await reader.next() == {"type": "pong"}
    assert await Message.all().count() == 0


async def test_error_frames_echo_the_client_id(app, cast):
    async with cast.reporter.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.send({"op": "say", "room": "ticket:404", "body": "hi", "client_id": "abc"})
        error = await reader.next()
    assert (error["code"], error["client_id"]) == ("forbidden", "abc")


async def test_binary_frames_are_refused_politely(app, cast):
    async with cast.reporter.client.websocket("/ws") as ws:
        await ws.send(b"\x00\x01")
        error = json.loads(await ws.receive())
        assert error["code"] == "bad_request"


async def test_oversized_frame_closes_with_1009(app, cast):
    async with cast.reporter.client.websocket("/ws") as ws:
        await ws.send(json.dumps({"op": "ping", "pad": "x" * 70_000}))
        with pytest.raises(WebsocketDisconnectError) as closed:
            await ws.receive()
    assert closed.value.args[0] == 1009


async def test_flooding_is_rate_limited_then_closed(app, cast):
    async with cast.reporter.client.websocket("/ws") as ws:
        for _ in range(200):
            await ws.send('{"op": "ping"}')
        reader = FrameReader(ws)
        closed = await reader.until_closed()
    codes = [frame["type"] for frame in reader.seen]
    assert isinstance(closed, WebsocketDisconnectError)
    assert closed.args[0] == 1008
    assert codes.count("pong") >= 25
    assert "error" in codes


async def test_typing_reaches_others_but_not_the_typist(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with (
        cast.reporter.client.websocket("/ws") as r_ws,
        cast.staff.client.websocket("/ws") as s_ws,
    ):
        reporter, staff = FrameReader(r_ws), FrameReader(s_ws)
        await reporter.join(room)
        await staff.join(room)
        await staff.send({"op": "typing", "room": room})
        typing = await reporter.until("typing")
        assert typing["user"]["id"] == cast.staff.id
        assert typing["internal"] is False
        await staff.send({"op": "ping"})
        await staff.until("pong")
        assert not [f for f in staff.seen if f.get("type") == "typing"]


async def test_internal_typing_and_notes_never_reach_the_reporter(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with (
        cast.reporter.client.websocket("/ws") as r_ws,
        cast.staff.client.websocket("/ws") as s_ws,
        cast.admin.client.websocket("/ws") as a_ws,
    ):
        reporter, staff, admin = FrameReader(r_ws), FrameReader(s_ws), FrameReader(a_ws)
        for reader in (reporter, staff, admin):
            await reader.join(room)
        await staff.send({"op": "typing", "room": room, "internal": True})
        assert (await admin.until("typing"))["internal"] is True
        await staff.send({"op": "say", "room": room, "body": "secret", "internal": True})
        await admin.until("event", kind="message.created")
        await staff.send({"op": "say", "room": room, "body": "public"})
        public = await reporter.until("event", kind="message.created")
        assert public["data"]["body"] == "public"
        assert not [f for f in reporter.seen if f.get("type") == "typing"]
        assert "secret" not in json.dumps(reporter.seen)
        await reporter.send({"op": "typing", "room": room, "internal": True})
        assert (await reporter.until("error"))["code"] == "forbidden"


async def test_http_changes_arrive_as_the_same_events(app, cast):
    async with (
        cast.staff.client.websocket("/ws") as s_ws,
        cast.reporter.client.websocket("/ws") as r_ws,
    ):
        staff, reporter = FrameReader(s_ws), FrameReader(r_ws)
        await staff.join("board")
        ticket = await create_ticket(cast.reporter.client)
        created = await staff.until("event", kind="ticket.created")
        assert created["data"] == ticket
        assert created["room"] == "board"
        mine = await reporter.until("event", kind="ticket.created")
        assert mine["room"] == f"user:{cast.reporter.id}"
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active"}
        )
        moved = await reporter.until("event", kind="ticket.status_changed")
        assert (moved["data"]["from"], moved["data"]["to"]) == ("open", "active")


async def test_leave_stops_delivery(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with cast.staff.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.join(room)
        await reader.send({"op": "leave", "room": room})
        await reader.until("left", room=room)
        await cast.reporter.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "anyone?"}
        )
        assert events_of(await reader.nothing_more()) == []


async def test_presence_and_read_markers(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    async with cast.reporter.client.websocket("/ws") as r_ws:
        reporter = FrameReader(r_ws)
        await reporter.join(room)
        alone = await reporter.until("presence")
        assert [v["id"] for v in alone["viewers"]] == [cast.reporter.id]
        async with cast.staff.client.websocket("/ws") as s_ws:
            staff = FrameReader(s_ws)
            await staff.join(room)
            both = await reporter.until("presence")
            assert {v["id"] for v in both["viewers"]} == {cast.reporter.id, cast.staff.id}
            await staff.send({"op": "say", "room": room, "body": "Hi there"})
            ack = await staff.until("ack")
            await reporter.send({"op": "read", "room": room, "message_id": ack["message_id"]})
            seen = await staff.until("read")
            assert (seen["user"]["id"], seen["message_id"]) == (cast.reporter.id, ack["message_id"])
        gone = await reporter.until("presence")
        assert [v["id"] for v in gone["viewers"]] == [cast.reporter.id]


async def test_an_unexpected_failure_in_the_handshake_is_logged_and_refused(
    app, cast, monkeypatch, caplog
):
    async def broken(_token):
        raise RuntimeError("the session store broke")

    monkeypatch.setattr("helpdesk.web.sessions.resolve_session", broken)
    with pytest.raises(WebsocketResponseError) as refused:
        async with cast.reporter.client.websocket("/ws") as socket:
            await socket.receive()
    assert refused.value.response.status_code == 500
    failures = [r for r in caplog.records if r.getMessage() == "unhandled error on the socket /ws"]
    assert failures and isinstance(failures[0].exc_info[1], RuntimeError)
