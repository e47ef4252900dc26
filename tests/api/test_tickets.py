"""Tickets over the API: reporting, reading, editing, the workflow, assignment, versions."""

from __future__ import annotations

import pytest

from helpdesk.encoding import loads
from helpdesk.models import Event, StatusChange, Ticket
from tests.conftest import TICKET, create_ticket, json_of, make_user


async def test_reporter_reports_a_ticket(app, cast):
    ticket = await create_ticket(cast.reporter.client, priority="high")
    assert ticket["status"] == "open"
    assert ticket["version"] == 1
    assert ticket["priority"] == "high"
    assert ticket["reporter"]["id"] == cast.reporter.id
    assert ticket["assignee"] is None
    assert ticket["location"] == TICKET["location"]
    assert ticket["created_at"].endswith("Z")
    fetched = await json_of(await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert fetched == ticket


async def test_priority_defaults_to_normal_and_blank_location_is_none(app, cast):
    ticket = await create_ticket(cast.reporter.client, location="   ")
    assert ticket["priority"] == "normal"
    assert ticket["location"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"description": "x" * 10_001}, "description"),
        ({"category": "plumbing"}, "category"),
        ({"location": "x" * 201}, "location"),
        ({"priority": "critical"}, "priority"),
        ({"title": 42}, "title"),
        ({"status": "closed"}, "status"),
    ],
)
async def test_create_refuses_each_bad_field_by_name(app, cast, change, field):
    response = await cast.reporter.client.post("/api/v1/tickets", json={**TICKET, **change})
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == field
    assert await Ticket.all().count() == 0


@pytest.mark.parametrize("missing", ["title", "description", "category"])
async def test_create_requires_title_description_and_category(app, cast, missing):
    body = {k: v for k, v in TICKET.items() if k != missing}
    response = await cast.reporter.client.post("/api/v1/tickets", json=body)
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == missing


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"null", "application/json", 400),
        (b'{"title": "x"}', "text/plain", 415),
        (b"title=x", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_bodies_get_clear_4xx(app, cast, body, content_type, status):
    response = await cast.reporter.client.post(
        "/api/v1/tickets", data=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert (await json_of(response))["error"]["code"]


async def test_reporter_edits_an_open_ticket_and_the_version_moves(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"title": "No wifi anywhere in Dorm B", "location": None},
    )
    assert response.status_code == 200
    edited = await json_of(response)
    assert edited["title"] == "No wifi anywhere in Dorm B"
    assert edited["location"] is None
    assert edited["version"] == 2
    same = await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"title": edited["title"]}
    )
    assert (await json_of(same))["version"] == 2, "a no-op edit is not a change"


async def test_reporters_may_not_change_priority(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"}
    )
    assert response.status_code == 403
    assert (await Ticket.get(id=ticket["id"])).priority == "normal"


async def test_staff_edit_priority(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "urgent"}
    )
    assert response.status_code == 200
    assert (await json_of(response))["priority"] == "urgent"


async def test_closed_ticket_is_read_only_for_its_reporter(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await move(cast.staff.client, ticket["id"], "active")
    await move(cast.staff.client, ticket["id"], "closed")
    response = await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"title": "again"}
    )
    assert response.status_code == 409
    staff_edit = await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"title": "Fixed"}
    )
    assert staff_edit.status_code == 200


async def test_stale_version_is_refused_with_the_current_ticket(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    first = await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "high", "version": 1}
    )
    assert first.status_code == 200
    stale = await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "low", "version": 1}
    )
    assert stale.status_code == 409
    body = await json_of(stale)
    assert body["error"]["code"] == "version_conflict"
    assert body["ticket"]["version"] == 2
    assert body["ticket"]["priority"] == "high"
    stale_move = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active", "version": 1}
    )
    assert stale_move.status_code == 409
    assert (await Ticket.get(id=ticket["id"])).status == "open"
    unversioned = await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}
    )
    assert unversioned.status_code == 200


async def move(client, ticket_id, status, **extra):
    return await client.post(
        f"/api/v1/tickets/{ticket_id}/status", json={"status": status, **extra}
    )


async def test_staff_move_a_ticket_through_the_workflow_with_an_audit_trail(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    active = await json_of(await move(cast.staff.client, ticket["id"], "active", note="On it"))
    assert active["status"] == "active"
    assert active["assignee"]["id"] == cast.staff.id, "taking a ticket assigns it to the taker"
    closed = await json_of(
        await move(cast.staff.client, ticket["id"], "closed", note="Replaced AP")
    )
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    assert closed["version"] == 3
    history = await json_of(
        await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/history")
    )
    assert [(h["from"], h["to"], h["note"]) for h in history["items"]] == [
        ("open", "active", "On it"),
        ("active", "closed", "Replaced AP"),
    ]
    assert history["items"][0]["actor"]["id"] == cast.staff.id


async def test_reporter_reopens_a_closed_ticket(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await move(cast.staff.client, ticket["id"], "active")
    await move(cast.staff.client, ticket["id"], "closed")
    reopened = await move(cast.reporter.client, ticket["id"], "active", note="Broken again")
    assert reopened.status_code == 200
    body = await json_of(reopened)
    assert body["status"] == "active"
    assert body["closed_at"] is None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "closed"),  # open -> closed skips a step
        ([], "open"),  # open -> open
        (["active"], "open"),  # active -> open is not a move
        (["active", "closed"], "closed"),  # closed -> closed
        (["active", "closed"], "open"),  # closed -> open
    ],
)
async def test_moves_the_workflow_lacks_are_409_with_the_allowed_ones(app, cast, path, target):
    ticket = await create_ticket(cast.reporter.client)
    for status in path:
        await move(cast.staff.client, ticket["id"], status)
    before = await Ticket.get(id=ticket["id"])
    response = await move(cast.staff.client, ticket["id"], target)
    assert response.status_code == 409
    error = (await json_of(response))["error"]
    assert error["code"] == "invalid_transition"
    expected = {"open": ["active"], "active": ["closed"], "closed": ["active"]}[before.status.value]
    assert error["allowed"] == expected
    after = await Ticket.get(id=ticket["id"])
    assert (after.status, after.version) == (before.status, before.version)
    assert await StatusChange.filter(ticket_id=ticket["id"]).count() == len(path)


@pytest.mark.parametrize(("path", "target"), [([], "active"), (["active"], "closed")])
async def test_reporters_may_not_make_staff_moves(app, cast, path, target):
    ticket = await create_ticket(cast.reporter.client)
    for status in path:
        await move(cast.staff.client, ticket["id"], status)
    assert (await move(cast.reporter.client, ticket["id"], target)).status_code == 403
    assert (await move(cast.other.client, ticket["id"], target)).status_code == 404


async def test_assign_and_unassign(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    colleague = await make_user("priya", role=cast.staff.user.role)
    response = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": colleague.id}
    )
    assert response.status_code == 200
    assigned = await json_of(response)
    assert assigned["assignee"]["username"] == "priya"
    assert assigned["version"] == 2
    cleared = await json_of(
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": None}
        )
    )
    assert cleared["assignee"] is None


async def test_assign_only_to_active_staff(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    for assignee in (cast.reporter.id, 999_999, 2**70):
        response = await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": assignee}
        )
        assert response.status_code == 400
        assert (await json_of(response))["error"]["field"] == "assignee_id"
    response = await cast.staff.client.post(f"/api/v1/tickets/{ticket['id']}/assign", json={})
    assert response.status_code == 400


async def test_reporter_cannot_assign(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    own = await cast.reporter.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": cast.staff.id}
    )
    assert own.status_code == 403
    others = await cast.other.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": cast.staff.id}
    )
    assert others.status_code == 404


@pytest.mark.parametrize("ticket_id", ["0", "999999", str(2**63), str(2**80)])
async def test_missing_and_huge_ids_are_404_not_500(app, cast, ticket_id):
    for method, path, body in [
        ("GET", f"/api/v1/tickets/{ticket_id}", None),
        ("PATCH", f"/api/v1/tickets/{ticket_id}", {"title": "x"}),
        ("POST", f"/api/v1/tickets/{ticket_id}/status", {"status": "active"}),
        ("GET", f"/api/v1/tickets/{ticket_id}/messages", None),
        ("GET", f"/api/v1/tickets/{ticket_id}/history", None),
    ]:
        response = await cast.staff.client.open(path, method=method, json=body)
        assert response.status_code == 404, (method, path)


async def test_resolution_time_is_kept_on_close_and_cleared_on_reopen(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await move(cast.staff.client, ticket["id"], "active")
    await move(cast.staff.client, ticket["id"], "closed")
    closed = await Ticket.get(id=ticket["id"])
    assert closed.resolution_seconds == round(
        (closed.closed_at - closed.created_at).total_seconds()
    )
    await move(cast.reporter.client, ticket["id"], "active")
    reopened = await Ticket.get(id=ticket["id"])
    assert (reopened.closed_at, reopened.resolution_seconds) == (None, None)


async def history_of(client, ticket_id):
    return (await json_of(await client.get(f"/api/v1/tickets/{ticket_id}/history")))["items"]


async def test_history_lists_detail_edits_with_who_and_what_among_the_status_changes(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    path = f"/api/v1/tickets/{ticket['id']}"
    await cast.reporter.client.patch(path, json={"location": "Dorm B, room 216"})
    await move(cast.staff.client, ticket["id"], "active", note="On it")
    await cast.staff.client.patch(
        path, json={"priority": "high", "category": "facilities", "description": "Dead AP."}
    )
    await cast.staff.client.patch(path, json={"priority": "high"})  # no change, no record

    items = await history_of(cast.reporter.client, ticket["id"])
    assert [(item["kind"], item["actor"]["id"]) for item in items] == [
        ("edit", cast.reporter.id),
        ("status", cast.staff.id),
        ("edit", cast.staff.id),
    ]
    assert items[0]["changes"] == [
        {"field": "location", "from": "Dorm B, room 214", "to": "Dorm B, room 216"}
    ]
    assert (items[1]["from"], items[1]["to"], items[1]["note"]) == ("open", "active", "On it")
    assert items[2]["changes"] == [
        {"field": "category", "from": "it", "to": "facilities"},
        {"field": "description"},
        {"field": "priority", "from": "normal", "to": "high"},
    ]
    assert [item["at"] for item in items] == sorted(item["at"] for item in items)
    assert items == await history_of(cast.staff.client, ticket["id"])


async def test_history_never_copies_the_description_text(app, cast):
    ticket = await create_ticket(cast.reporter.client, description="My phone is 0791 555 0100.")
    await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"description": "Call me on the desk phone."}
    )
    response = await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/history")
    raw = await response.get_data(as_text=True)
    assert [item["changes"] for item in loads(raw)["items"]] == [[{"field": "description"}]]
    assert "0791" not in raw and "desk phone" not in raw, "the ticket alone holds its text"


async def test_a_refused_edit_leaves_nothing_in_the_history(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    path = f"/api/v1/tickets/{ticket['id']}"
    refused = await cast.reporter.client.patch(path, json={"title": "Mine", "priority": "urgent"})
    assert refused.status_code == 403
    stale = await cast.staff.client.patch(path, json={"title": "Theirs", "version": 7})
    assert stale.status_code == 409
    await cast.staff.client.patch(path, json={"title": "Theirs"})
    items = await history_of(cast.staff.client, ticket["id"])
    assert [item["changes"] for item in items] == [
        [{"field": "title", "from": TICKET["title"], "to": "Theirs"}]
    ]


async def test_the_updated_event_says_who_changed_what(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.staff.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"location": "Library", "description": "Gone."}
    )
    event = await Event.get(kind="ticket.updated", room=f"user:{cast.reporter.id}")
    data = loads(event.data)
    assert data["actor"]["id"] == cast.staff.id
    assert data["changed"] == ["description", "location"]
    assert data["changes"] == [
        {"field": "description"},
        {"field": "location", "from": "Dorm B, room 214", "to": "Library"},
    ]
