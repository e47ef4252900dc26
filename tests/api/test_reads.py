"""Read markers over HTTP: a reporter sees each marker clamped to the last message they may see."""

from __future__ import annotations

from typing import Any

from tests.conftest import Actor, create_ticket, json_of


async def say(actor: Actor, ticket_id: int, body: str, *, internal: bool = False) -> int:
    response = await actor.client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": body, "internal": internal}
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return (await json_of(response))["id"]


async def mark(actor: Actor, ticket_id: int, message_id: int) -> None:
    response = await actor.client.post(
        f"/api/v1/tickets/{ticket_id}/read", json={"message_id": message_id}
    )
    assert response.status_code == 204, await response.get_data(as_text=True)


async def markers(actor: Actor, ticket_id: int) -> dict[int, dict[str, Any]]:
    """The markers `actor` is shown on the ticket, by whose they are."""
    listed = await json_of(await actor.client.get(f"/api/v1/tickets/{ticket_id}/reads"))
    return {marker["user"]["id"]: marker for marker in listed["items"]}


async def test_reporter_sees_a_marker_on_an_internal_note_at_the_reply_before_it(app, cast):
    ticket = (await create_ticket(cast.reporter.client))["id"]
    reply = await say(cast.staff, ticket, "A technician is on the way")
    await mark(cast.staff, ticket, reply)
    before = (await markers(cast.reporter, ticket))[cast.staff.id]
    note = await say(cast.staff, ticket, "Reporter was rude on the phone", internal=True)
    await mark(cast.staff, ticket, note)

    assert (await markers(cast.staff, ticket))[cast.staff.id]["message_id"] == note
    assert (await markers(cast.reporter, ticket))[cast.staff.id] == before, (
        "neither the note's id nor when it was read reaches the reporter"
    )


async def test_reporter_sees_no_marker_that_stands_only_on_internal_notes(app, cast):
    ticket = (await create_ticket(cast.reporter.client))["id"]
    note = await say(cast.staff, ticket, "Check the router first", internal=True)
    await mark(cast.staff, ticket, note)

    assert (await markers(cast.staff, ticket))[cast.staff.id]["message_id"] == note
    assert cast.staff.id not in await markers(cast.reporter, ticket)


async def test_a_marker_that_jumps_onto_a_note_shows_the_reporter_the_reply_it_passed(app, cast):
    ticket = (await create_ticket(cast.reporter.client))["id"]
    first = await say(cast.staff, ticket, "Is it still cold?")
    await mark(cast.staff, ticket, first)
    before = (await markers(cast.reporter, ticket))[cast.staff.id]
    passed = await say(cast.reporter, ticket, "Yes, 14 degrees")
    note = await say(cast.staff, ticket, "Boiler room is locked", internal=True)
    await mark(cast.staff, ticket, note)

    seen_by_staff = (await markers(cast.staff, ticket))[cast.staff.id]
    seen_by_reporter = (await markers(cast.reporter, ticket))[cast.staff.id]
    assert seen_by_reporter["message_id"] == passed
    assert seen_by_reporter["at"] == seen_by_staff["at"] != before["at"], (
        "the time it passed the reply, which is when it moved"
    )
