"""The event log: each change writes its events in its own transaction, into the right rooms."""

from __future__ import annotations

from helpdesk.encoding import loads
from helpdesk.models import Event
from tests.conftest import create_ticket, json_of


async def rooms_of(kind: str) -> dict[str, dict]:
    rows = await Event.filter(kind=kind).order_by("id")
    return {row.room: {"data": loads(row.data), "staff_only": row.staff_only} for row in rows}


async def test_creating_a_ticket_logs_it_in_its_room_the_board_and_the_reporters_room(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    rooms = await rooms_of("ticket.created")
    assert set(rooms) == {f"ticket:{ticket['id']}", "board", f"user:{cast.reporter.id}"}
    assert all(entry["data"] == ticket for entry in rooms.values())


async def test_status_change_event_carries_from_and_to(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active", "note": "On my way"}
    )
    rooms = await rooms_of("ticket.status_changed")
    assert f"user:{cast.reporter.id}" in rooms
    data = rooms["board"]["data"]
    assert (data["from"], data["to"], data["note"]) == ("open", "active", "On my way")
    assert data["status"] == "active"
    assert data["id"] == ticket["id"]


async def test_edit_and_assign_are_logged(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.reporter.client.patch(f"/api/v1/tickets/{ticket['id']}", json={"title": "New title"})
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": cast.staff.id}
    )
    updated = await rooms_of("ticket.updated")
    assert updated["board"]["data"]["changed"] == ["title"]
    assigned = await rooms_of("ticket.assigned")
    assert f"user:{cast.staff.id}" in assigned, "the new assignee is told"
    assert assigned["board"]["data"]["assignee"]["id"] == cast.staff.id


async def test_internal_notes_never_land_in_a_reporters_room_unmarked(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "secret", "internal": True}
    )
    rows = await Event.filter(kind="message.created")
    assert {row.room for row in rows} == {f"ticket:{ticket['id']}", "board"}
    assert all(row.staff_only for row in rows)
    assert not await Event.filter(room=f"user:{cast.reporter.id}", kind="message.created").exists()


async def test_message_event_ids_increase_and_match_the_message(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    first = await json_of(
        await cast.reporter.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "one"}
        )
    )
    second = await json_of(
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "two"}
        )
    )
    events = await Event.filter(room=f"ticket:{ticket['id']}", kind="message.created").order_by(
        "id"
    )
    assert [loads(e.data)["id"] for e in events] == [first["id"], second["id"]]


async def test_a_refused_change_writes_no_events(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    before = await Event.all().count()
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "closed"}
    )
    await cast.reporter.client.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"})
    await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"title": "x", "version": 9}
    )
    assert await Event.all().count() == before


async def test_activity_feed_shows_the_board_to_staff_and_own_news_to_reporters(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await create_ticket(cast.other.client, title="Other problem")
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "note", "internal": True}
    )
    await cast.staff.client.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "reply"})
    staff_feed = await json_of(await cast.staff.client.get("/api/v1/activity"))
    assert [e["kind"] for e in staff_feed["items"]] == [
        "message.created",
        "message.created",
        "ticket.created",
        "ticket.created",
    ]
    assert all(e["room"] == "board" for e in staff_feed["items"])
    mine = await json_of(await cast.reporter.client.get("/api/v1/activity?limit=10"))
    assert [(e["kind"], e["data"].get("body")) for e in mine["items"]] == [
        ("message.created", "reply"),
        ("ticket.created", None),
    ]
    ids = [e["id"] for e in mine["items"]]
    assert ids == sorted(ids, reverse=True)
    assert (await cast.staff.client.get("/api/v1/activity?limit=0")).status_code == 400
    assert (await cast.staff.client.get("/api/v1/activity?limit=101")).status_code == 400
