"""Who may do what over /ws: the handshake, every room and every op, for every kind of caller."""

from __future__ import annotations

import pytest
from quart.testing.connections import WebsocketResponseError

from helpdesk.models import Role, User
from tests.conftest import create_ticket, make_user, signed_in_client
from tests.live.helpers import FrameReader

SIGNED_IN = ("reporter", "other", "staff", "admin")


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    from tests.services import sqlite_copy

    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
async def world(app):
    users = {
        "reporter": await make_user("rita"),
        "other": await make_user("oscar"),
        "staff": await make_user("sam", Role.STAFF),
        "admin": await make_user("ada", Role.ADMIN),
        "deactivated": await make_user("gone"),
    }
    clients = {name: await signed_in_client(app, user) for name, user in users.items()}
    clients["anonymous"] = await signed_in_client(app, None)
    await User.filter(id=users["deactivated"].id).update(is_active=False)
    ticket = await create_ticket(clients["reporter"])
    reply = await (
        await clients["staff"].post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Hello"}
        )
    ).get_json()
    return {"users": users, "clients": clients, "ticket": ticket["id"], "message": reply["id"]}


@pytest.mark.parametrize("actor", ["anonymous", "deactivated"])
async def test_handshake_refuses_those_without_a_live_session(world, actor):
    with pytest.raises(WebsocketResponseError) as refused:
        async with world["clients"][actor].websocket("/ws") as socket:
            await socket.receive()
    assert refused.value.response.status_code == 401


def rooms(world) -> dict[str, set[str]]:
    """Each room, and who may join it."""
    users = world["users"]
    return {
        f"ticket:{world['ticket']}": {"reporter", "staff", "admin"},
        "ticket:987654": set(),
        "board": {"staff", "admin"},
        "known-issues": set(SIGNED_IN),  # the public view of what is broken on campus
        f"user:{users['reporter'].id}": {"reporter"},
        f"user:{users['staff'].id}": {"staff"},
        "anything-else": set(),
    }


@pytest.mark.parametrize("actor", SIGNED_IN)
async def test_every_room(world, actor):
    async with world["clients"][actor].websocket("/ws") as ws:
        reader = FrameReader(ws)
        for room, allowed in rooms(world).items():
            await reader.send({"op": "join", "room": room})
            answer = await reader.until(lambda f: f.get("type") in ("joined", "error"))
            assert (answer["type"] == "joined") == (actor in allowed), (room, answer)


def ops(world) -> list[tuple[dict, dict[str, str]]]:
    """Each op on the reporter's ticket, and the answer each caller gets: ack or an error code."""
    room = f"ticket:{world['ticket']}"
    return [
        (
            {"op": "say", "room": room, "body": "hi", "client_id": "c"},
            {"reporter": "ack", "other": "forbidden", "staff": "ack", "admin": "ack"},
        ),
        (
            {"op": "say", "room": room, "body": "note", "internal": True, "client_id": "n"},
            {"reporter": "forbidden", "other": "forbidden", "staff": "ack", "admin": "ack"},
        ),
        (
            {"op": "typing", "room": room},
            {"reporter": "quiet", "other": "forbidden", "staff": "quiet", "admin": "quiet"},
        ),
        (
            {"op": "typing", "room": room, "internal": True},
            {"reporter": "forbidden", "other": "forbidden", "staff": "quiet", "admin": "quiet"},
        ),
        (
            {"op": "read", "room": room, "message_id": world["message"]},
            {"reporter": "quiet", "other": "forbidden", "staff": "quiet", "admin": "quiet"},
        ),
        ({"op": "say", "room": "board", "body": "hi"}, dict.fromkeys(SIGNED_IN, "forbidden")),
        ({"op": "ping"}, dict.fromkeys(SIGNED_IN, "pong")),
    ]


@pytest.mark.parametrize("actor", SIGNED_IN)
async def test_every_op(world, actor):
    room = f"ticket:{world['ticket']}"
    async with world["clients"][actor].websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.send({"op": "join", "room": room})
        await reader.until(lambda f: f.get("type") in ("joined", "error"))
        for frame, expected in ops(world):
            await reader.send(frame)
            await reader.send({"op": "ping"})  # a marker: whatever came before it answers `frame`
            answers = []
            while True:
                got = await reader.next()
                if got.get("type") == "pong":
                    break
                if got.get("type") in ("ack", "error"):
                    answers.append(got.get("code", got["type"]))
            outcome = answers[0] if answers else ("pong" if frame["op"] == "ping" else "quiet")
            assert outcome == expected[actor], (frame, answers)
