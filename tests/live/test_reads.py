"""Read markers over a real Hypercorn: what a reporter's socket learns of staff reading notes."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.models import Role
from tests.live.server import LiveServer, Person, prepare_database, server_env

pytestmark = pytest.mark.live
REPORTERS = [f"student{n}" for n in range(10)]  # a fresh one per test


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("reads")
    env = server_env(root, chat_messages="1000")  # traffic here is scripted, not typed
    prepare_database(env, {"sam": Role.STAFF, **dict.fromkeys(REPORTERS, Role.USER)})
    live = LiveServer(root, env).start()
    yield live
    live.stop()


_next_reporter = iter(REPORTERS)


@pytest.fixture
async def people(server):
    """A fresh reporter with a ticket of their own, and a staff member, both signed in."""
    reporter = await Person(server, next(_next_reporter)).login()
    staff = await Person(server, "sam").login()
    response = await reporter.http.post(
        "/api/v1/tickets",
        json={"title": "Radiator cold", "description": "Dorm B 214", "category": "facilities"},
    )
    assert response.status_code == 201, response.text
    yield reporter, staff, response.json()["id"]
    await reporter.close()
    await staff.close()


async def say(person: Person, ticket_id: int, body: str, *, internal: bool = False) -> int:
    response = await person.http.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": body, "internal": internal}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def mark_over_http(person: Person, ticket_id: int, message_id: int) -> None:
    response = await person.http.post(
        f"/api/v1/tickets/{ticket_id}/read", json={"message_id": message_id}
    )
    assert response.status_code == 204, response.text


async def markers_over_http(person: Person, ticket_id: int) -> dict[int, dict[str, Any]]:
    response = await person.http.get(f"/api/v1/tickets/{ticket_id}/reads")
    assert response.status_code == 200, response.text
    return {marker["user"]["id"]: marker for marker in response.json()["items"]}


async def joined_markers(person: Person, room: str) -> dict[int, dict[str, Any]]:
    tab = await person.socket()
    await tab.join(room)
    reads = await tab.until("reads", room=room)
    return {marker["user"]["id"]: marker for marker in reads["markers"]}


async def test_join_shows_the_reporter_a_marker_on_a_note_at_the_reply_before_it(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket}"
    reply = await say(staff, ticket, "A technician is on the way")
    await mark_over_http(staff, ticket, reply)
    before = (await joined_markers(reporter, room))[staff.id]
    note = await say(staff, ticket, "Reporter was rude on the phone", internal=True)
    await mark_over_http(staff, ticket, note)

    assert (await joined_markers(staff, room))[staff.id]["message_id"] == note
    assert (await joined_markers(reporter, room))[staff.id] == before


async def test_join_shows_the_reporter_no_marker_that_stands_only_on_notes(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket}"
    note = await say(staff, ticket, "Check the boiler first", internal=True)
    await mark_over_http(staff, ticket, note)

    assert (await joined_markers(staff, room))[staff.id]["message_id"] == note
    assert staff.id not in await joined_markers(reporter, room)


async def test_reading_a_note_from_the_socket_sends_the_reporter_nothing(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket}"
    r_tab, s_tab = await reporter.socket(), await staff.socket()
    await r_tab.join(room)
    await s_tab.join(room)
    reply = await say(staff, ticket, "A technician is on the way")
    await s_tab.send({"op": "read", "room": room, "message_id": reply})
    seen = await r_tab.until("read", message_id=reply)
    assert seen["user"]["id"] == staff.id

    note = await say(staff, ticket, "Reporter was rude on the phone", internal=True)
    await s_tab.send({"op": "read", "room": room, "message_id": note})
    await s_tab.until("read", message_id=note)
    later = await say(staff, ticket, "Fixed, please check")
    await r_tab.until(lambda f: f.get("room") == room and f.get("data", {}).get("id") == later)
    since_reply = r_tab.seen[r_tab.seen.index(seen) + 1 :]
    assert [f for f in since_reply if f["type"] == "read"] == [], "the note's read stays unsaid"
    assert (await markers_over_http(reporter, ticket))[staff.id] == {
        key: seen[key] for key in ("user", "message_id", "at")
    }


async def test_a_read_over_http_that_jumps_onto_a_note_shows_the_reporter_the_reply(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket}"
    r_tab, s_tab = await reporter.socket(), await staff.socket()
    await r_tab.join(room)
    await s_tab.join(room)
    passed = await say(reporter, ticket, "Still 14 degrees in here")
    note = await say(staff, ticket, "Boiler room is locked", internal=True)
    await mark_over_http(staff, ticket, note)

    shown = await r_tab.until("read")
    assert (shown["user"]["id"], shown["message_id"]) == (staff.id, passed)
    assert (await s_tab.until("read", message_id=note))["user"]["id"] == staff.id
    assert (await markers_over_http(reporter, ticket))[staff.id] == {
        key: shown[key] for key in ("user", "message_id", "at")
    }
