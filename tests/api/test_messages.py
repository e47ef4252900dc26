"""The conversation over HTTP: replies, internal notes, idempotent retries, reply clocks."""

from __future__ import annotations

import pytest

from helpdesk.models import Message, Ticket
from tests.conftest import create_ticket, json_of


async def post(client, ticket_id, **body):
    return await client.post(f"/api/v1/tickets/{ticket_id}/messages", json=body)


async def listed(client, ticket_id, query=""):
    return await json_of(await client.get(f"/api/v1/tickets/{ticket_id}/messages{query}"))


async def test_reporter_and_staff_talk_oldest_first(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    first = await json_of(await post(cast.reporter.client, ticket["id"], body="Still no wifi"))
    second = await json_of(
        await post(cast.staff.client, ticket["id"], body="Technician on the way")
    )
    assert first["author"]["id"] == cast.reporter.id
    assert second["internal"] is False
    page = await listed(cast.reporter.client, ticket["id"])
    assert [m["body"] for m in page["items"]] == ["Still no wifi", "Technician on the way"]
    assert page["has_more"] is False
    after = await listed(cast.reporter.client, ticket["id"], f"?after={first['id']}")
    assert [m["id"] for m in after["items"]] == [second["id"]]


async def test_reporter_cannot_see_internal_notes(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await post(
        cast.staff.client, ticket["id"], body="Reporter was rude on the phone", internal=True
    )
    await post(cast.staff.client, ticket["id"], body="We are looking into it")
    reporter_view = await listed(cast.reporter.client, ticket["id"])
    assert [m["body"] for m in reporter_view["items"]] == ["We are looking into it"]
    staff_view = await listed(cast.staff.client, ticket["id"])
    assert [m["internal"] for m in staff_view["items"]] == [True, False]


async def test_first_response_is_the_first_public_staff_reply(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await post(cast.reporter.client, ticket["id"], body="Hello?")
    await post(cast.staff.client, ticket["id"], body="internal first", internal=True)
    assert (await Ticket.get(id=ticket["id"])).first_response_at is None
    reply = await json_of(await post(cast.staff.client, ticket["id"], body="Hi! On it."))
    await post(cast.staff.client, ticket["id"], body="Update: parts ordered")
    stored = await Ticket.get(id=ticket["id"])
    assert stored.first_response_at is not None
    assert stored.first_response_at.isoformat().startswith(reply["created_at"][:19])
    waited = (stored.first_response_at - stored.created_at).total_seconds()
    assert stored.first_response_seconds == round(waited)
    assert stored.version == 1, "messages do not bump the version"


async def test_same_client_id_is_stored_once(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    first = await post(cast.reporter.client, ticket["id"], body="Hello", client_id="c-1")
    again = await post(cast.reporter.client, ticket["id"], body="Hello", client_id="c-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert (await json_of(first))["id"] == (await json_of(again))["id"]
    assert await Message.filter(ticket_id=ticket["id"]).count() == 1


async def test_closed_ticket_takes_no_reporter_messages_until_reopened(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    for status in ("active", "closed"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
    assert (await post(cast.reporter.client, ticket["id"], body="again")).status_code == 409
    assert (await post(cast.staff.client, ticket["id"], body="follow-up")).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "ok", "internal": "yes"}, "internal"),
        ({"body": "ok", "client_id": "x" * 65}, "client_id"),
        ({}, "body"),
    ],
)
async def test_bad_messages_are_refused_by_field(app, cast, body, field):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.staff.client.post(f"/api/v1/tickets/{ticket['id']}/messages", json=body)
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == field
    assert await Message.all().count() == 0


async def test_message_query_bounds(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    for query in ("?after=-1", f"?after={2**64}", "?limit=0", "?limit=501", "?after=x"):
        response = await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/messages{query}")
        assert response.status_code == 400, query


async def test_read_markers_over_http(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    reply = await json_of(await post(cast.staff.client, ticket["id"], body="Fixed?"))
    note = await json_of(await post(cast.staff.client, ticket["id"], body="n", internal=True))
    path = f"/api/v1/tickets/{ticket['id']}"
    assert (
        await cast.reporter.client.post(f"{path}/read", json={"message_id": reply["id"]})
    ).status_code == 204
    hidden = await cast.reporter.client.post(f"{path}/read", json={"message_id": note["id"]})
    assert hidden.status_code == 400, "a reporter cannot mark an internal note read"
    markers = await json_of(await cast.staff.client.get(f"{path}/reads"))
    assert [(m["user"]["id"], m["message_id"]) for m in markers["items"]] == [
        (cast.reporter.id, reply["id"])
    ]
    assert (await cast.other.client.get(f"{path}/reads")).status_code == 404


async def test_before_lists_the_newest_page_before_a_message(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    ids = [
        (await json_of(await post(cast.staff.client, ticket["id"], body=f"m{n}")))["id"]
        for n in range(5)
    ]
    await post(cast.staff.client, ticket["id"], body="hidden", internal=True)
    page = await listed(cast.reporter.client, ticket["id"], f"?before={ids[4]}&limit=2")
    assert [m["id"] for m in page["items"]] == ids[2:4], "the newest two before, oldest first"
    assert page["has_more"] is True
    first = await listed(cast.reporter.client, ticket["id"], f"?before={ids[2]}&limit=2")
    assert [m["id"] for m in first["items"]] == ids[:2]
    assert first["has_more"] is False


async def test_before_is_bounded_like_after(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    for query in ("?before=-1", f"?before={2**64}", "?before=x", "?before=1.5"):
        response = await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/messages{query}")
        assert response.status_code == 400, query
        assert (await json_of(response))["error"]["field"] == "before", query
