"""Listing tickets: filters and cursor pagination that neither repeats nor skips."""

from __future__ import annotations

import pytest

from tests.conftest import create_ticket, json_of


async def test_filters_by_status_category_assignee_and_text(app, cast):
    wifi = await create_ticket(
        cast.reporter.client,
        title="No wifi in library",
        category="it",
        location="Library, 2nd floor",
    )
    heat = await create_ticket(
        cast.reporter.client,
        title="Cold radiator",
        category="facilities",
        location="Dorm B, room 214",
    )
    food = await create_ticket(
        cast.other.client, title="Cafeteria closed", category="services", location=None
    )
    await cast.staff.client.post(f"/api/v1/tickets/{heat['id']}/status", json={"status": "active"})

    async def ids(query: str) -> list[int]:
        response = await cast.staff.client.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200
        return [t["id"] for t in (await json_of(response))["items"]]

    assert await ids("status=open") == [food["id"], wifi["id"]]
    assert await ids("status=open,active") == [food["id"], heat["id"], wifi["id"]]
    assert await ids("status=active") == [heat["id"]]
    assert await ids("category=services") == [food["id"]]
    assert await ids("assignee=me") == [heat["id"]]
    assert await ids(f"assignee={cast.staff.id}") == [heat["id"]]
    assert await ids("assignee=none") == [food["id"], wifi["id"]]
    assert await ids("q=WIFI") == [wifi["id"]]
    assert await ids("q=room%20214") == [heat["id"]]
    assert await ids("q=100%25") == []
    assert await ids("q=_") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=pending", "status"),
        ("category=plumbing", "category"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=abc", "cursor"),
        ("cursor=-5", "cursor"),
        (f"cursor={2**64}", "cursor"),
        ("assignee=someone", "assignee"),
        (f"assignee={2**70}", "assignee"),
    ],
)
async def test_bad_queries_name_the_parameter(app, cast, query, field):
    response = await cast.staff.client.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == field


async def test_pages_neither_repeat_nor_skip_while_tickets_arrive(app, cast):
    created = [await create_ticket(cast.reporter.client, title=f"Ticket {n}") for n in range(12)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = await json_of(await cast.staff.client.get(f"/api/v1/tickets?{query}"))
        seen += [t["id"] for t in page["items"]]
        pages += 1
        # Somebody reports a new problem between every page.
        await create_ticket(cast.other.client, title=f"Arrived during page {pages}")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((t["id"] for t in created), reverse=True)
    assert pages == 3


async def test_last_page_has_no_cursor(app, cast):
    for _ in range(3):
        await create_ticket(cast.reporter.client)
    page = await json_of(await cast.staff.client.get("/api/v1/tickets?limit=3"))
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None


async def test_closed_after_lists_what_was_closed_since(app, cast):
    early, late = (
        await create_ticket(cast.reporter.client),
        await create_ticket(cast.reporter.client),
    )
    await create_ticket(cast.reporter.client)  # still open
    for ticket in (early, late):
        for status in ("active", "closed"):
            response = await cast.staff.client.post(
                f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
            )
            assert response.status_code == 200
    closed_at = (await json_of(response))["closed_at"]  # the later one's

    async def ids(moment: str) -> list[int]:
        response = await cast.staff.client.get(
            "/api/v1/tickets", query_string={"closed_after": moment}
        )
        assert response.status_code == 200
        return [t["id"] for t in (await json_of(response))["items"]]

    assert await ids("2000-01-01T00:00:00+00:00") == [late["id"], early["id"]]
    assert await ids(closed_at) == [late["id"]]
    assert await ids("2999-01-01T00:00:00+05:00") == []


@pytest.mark.parametrize(
    "moment", ["yesterday", "2026-11-20T10:00:00", "0001-01-01T00:00:00+14:00", "2026-13-01T00:00Z"]
)
async def test_closed_after_needs_a_real_moment_with_its_offset(app, cast, moment):
    response = await cast.staff.client.get("/api/v1/tickets", query_string={"closed_after": moment})
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == "closed_after"
