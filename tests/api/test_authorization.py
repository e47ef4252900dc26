"""Who may call which route: each role against each route of the HTTP API."""

from __future__ import annotations

import pytest

from tests.conftest import create_ticket


@pytest.fixture
async def ticket(cast):
    return await create_ticket(cast.reporter.client)


def routes(ticket_id: int, staff_id: int):
    """(method, path, body) of every ticket-scoped route with a body that would succeed."""
    return {
        "get": ("GET", f"/api/v1/tickets/{ticket_id}", None),
        "edit": ("PATCH", f"/api/v1/tickets/{ticket_id}", {"title": "Edited title"}),
        "move": ("POST", f"/api/v1/tickets/{ticket_id}/status", {"status": "active"}),
        "assign": ("POST", f"/api/v1/tickets/{ticket_id}/assign", {"assignee_id": staff_id}),
        "messages": ("GET", f"/api/v1/tickets/{ticket_id}/messages", None),
        "reply": ("POST", f"/api/v1/tickets/{ticket_id}/messages", {"body": "Any news?"}),
        "note": ("POST", f"/api/v1/tickets/{ticket_id}/messages", {"body": "n", "internal": True}),
        "history": ("GET", f"/api/v1/tickets/{ticket_id}/history", None),
    }


# Expected status per role for each route: 404 means "not yours" (no existence leak).
MATRIX = {
    "get": {"reporter": 200, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
    "edit": {"reporter": 200, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
    "move": {"reporter": 403, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
    "assign": {"reporter": 403, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
    "messages": {"reporter": 200, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
    "reply": {"reporter": 201, "other": 404, "staff": 201, "admin": 201, "anonymous": 401},
    "note": {"reporter": 403, "other": 404, "staff": 201, "admin": 201, "anonymous": 401},
    "history": {"reporter": 200, "other": 404, "staff": 200, "admin": 200, "anonymous": 401},
}


@pytest.mark.parametrize("route", sorted(MATRIX))
@pytest.mark.parametrize("role", ["reporter", "other", "staff", "admin", "anonymous"])
async def test_ticket_routes_by_role(app, cast, ticket, route, role):
    method, path, body = routes(ticket["id"], cast.staff.id)[route]
    response = await getattr(cast, role).client.open(path, method=method, json=body)
    assert response.status_code == MATRIX[route][role], await response.get_data(as_text=True)


NEW_TICKET = {"title": "t", "description": "d", "category": "it"}
GLOBAL = [
    ("GET", "/api/v1/me", None, {"reporter": 200, "staff": 200, "anonymous": 401}),
    ("GET", "/api/v1/tickets", None, {"reporter": 200, "staff": 200, "anonymous": 401}),
    ("POST", "/api/v1/tickets", NEW_TICKET, {"reporter": 201, "staff": 201, "anonymous": 401}),
    ("GET", "/api/v1/activity", None, {"reporter": 200, "staff": 200, "anonymous": 401}),
    ("GET", "/api/v1/staff", None, {"reporter": 403, "staff": 200, "anonymous": 401}),
    ("POST", "/api/v1/auth/logout", None, {"reporter": 204, "staff": 204, "anonymous": 401}),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), GLOBAL, ids=[f"{m} {p}" for m, p, _, _ in GLOBAL]
)
@pytest.mark.parametrize("role", ["reporter", "staff", "anonymous"])
async def test_account_routes_by_role(app, cast, method, path, body, expected, role):
    response = await getattr(cast, role).client.open(path, method=method, json=body)
    assert response.status_code == expected[role]


async def test_reporters_list_only_their_own_tickets(app, cast):
    mine = await create_ticket(cast.reporter.client)
    await create_ticket(cast.other.client, title="Someone else's")
    listed = await (await cast.reporter.client.get("/api/v1/tickets")).get_json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]]
    everything = await (await cast.staff.client.get("/api/v1/tickets")).get_json()
    assert len(everything["items"]) == 2
