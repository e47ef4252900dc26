"""Listing tickets: filters and cursor pagination that neither repeats nor skips."""

from __future__ import annotations

from datetime import datetime

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


async def all_pages(client, query: str, limit: int = 2) -> list[dict]:
    """Every ticket the list gives for `query`, following `next_cursor` page by page."""
    listed: list[dict] = []
    cursor = None
    while True:
        page_query = f"{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(f"/api/v1/tickets?{page_query}")
        assert response.status_code == 200, await response.get_data(as_text=True)
        page = await json_of(response)
        listed += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return listed


URGENCY = {"urgent": 3, "high": 2, "normal": 1, "low": 0}


def activity(ticket: dict) -> datetime:
    moments = [ticket["updated_at"], ticket["last_message_at"]]
    return max(datetime.fromisoformat(moment) for moment in moments if moment)


EXPECTED_ORDER = {
    "newest": lambda ticket: -ticket["id"],
    "activity": lambda ticket: (-activity(ticket).timestamp(), -ticket["id"]),
    "waiting": lambda ticket: ticket["id"],
    "priority": lambda ticket: (-URGENCY[ticket["priority"]], ticket["id"]),
}


@pytest.mark.parametrize("sort", sorted(EXPECTED_ORDER))
async def test_each_sort_pages_in_its_order_without_repeats_or_gaps(app, cast, sort):
    staff = cast.staff.client
    priorities = ["normal", "urgent", "low", "urgent", "high", "normal", "urgent"]
    made = [
        await create_ticket(cast.reporter.client, title=f"Ticket {n}", priority=priority)
        for n, priority in enumerate(priorities)
    ]
    # Activity after reporting: a reply to an old ticket and an edit of another.
    await staff.post(f"/api/v1/tickets/{made[1]['id']}/messages", json={"body": "On our way"})
    await staff.patch(f"/api/v1/tickets/{made[2]['id']}", json={"location": "Gym"})
    everything = await all_pages(staff, "sort=newest", limit=100)

    listed = await all_pages(staff, f"sort={sort}")

    assert [t["id"] for t in listed] == [
        t["id"] for t in sorted(everything, key=EXPECTED_ORDER[sort])
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=oldest", "sort"),
        ("sort=activity&cursor=5", "cursor"),
        ("sort=priority&cursor=5", "cursor"),
        ("sort=newest&cursor=1.5", "cursor"),
        ("sort=waiting&cursor=1.5", "cursor"),
        (f"sort=activity&cursor={10**18}.5", "cursor"),
        (f"sort=priority&cursor=1.{2**40}", "cursor"),
        ("cursor=1.2.3", "cursor"),
    ],
)
async def test_a_sort_or_a_cursor_it_did_not_hand_out_is_refused(app, cast, query, field):
    await create_ticket(cast.reporter.client)
    response = await cast.staff.client.get(f"/api/v1/tickets?{query}")
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == field


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=open",
        "status=active,closed",
        "category=it",
        "assignee=none",
        "assignee=me",
        "q=wifi",
        "status=closed&closed_after=2000-01-01T00:00:00Z",
    ],
)
async def test_the_count_agrees_with_what_the_list_gives(app, cast, query):
    for n in range(5):
        await create_ticket(cast.reporter.client, title=f"No wifi {n}", category="it")
        await create_ticket(cast.other.client, title=f"Cold room {n}", category="facilities")
    listed = await all_pages(cast.staff.client, "status=open", limit=100)
    for ticket in listed[:4]:
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active"}
        )
    await cast.staff.client.post(
        f"/api/v1/tickets/{listed[0]['id']}/status", json={"status": "closed"}
    )

    for actor in (cast.staff, cast.reporter):
        response = await actor.client.get(f"/api/v1/tickets/count?{query}")
        assert response.status_code == 200
        expected = len(await all_pages(actor.client, query, limit=3))
        assert (await json_of(response))["count"] == expected


async def test_search_finds_a_ticket_by_its_number_with_or_without_the_hash(app, cast):
    wanted = await create_ticket(cast.reporter.client, title="Broken chair", location="Gym")
    await create_ticket(cast.reporter.client, title="Broken table", location="Gym")
    for q in (str(wanted["id"]), f"#{wanted['id']}", f"# {wanted['id']}"):
        response = await cast.staff.client.get("/api/v1/tickets", query_string={"q": q})
        assert [t["id"] for t in (await json_of(response))["items"]] == [wanted["id"]], q


async def test_search_finds_tickets_by_the_reporters_name_or_username(app, cast):
    await cast.reporter.user.update_from_dict({"display_name": "Rita Moreno"}).save()
    ritas = await create_ticket(cast.reporter.client, title="Noisy fan")
    await create_ticket(cast.other.client, title="Noisy fan")
    for q in ("moreno", "RITA"):
        response = await cast.staff.client.get("/api/v1/tickets", query_string={"q": q})
        assert [t["id"] for t in (await json_of(response))["items"]] == [ritas["id"]], q


async def test_a_reporter_searching_by_name_or_number_sees_only_their_own(app, cast):
    ritas = await create_ticket(cast.reporter.client, title="Noisy fan")
    oscars = await create_ticket(cast.other.client, title="Noisy fan")
    for q in ("rita", f"#{ritas['id']}", "noisy"):
        response = await cast.other.client.get("/api/v1/tickets", query_string={"q": q})
        found = [t["id"] for t in (await json_of(response))["items"]]
        assert ritas["id"] not in found, q
        count = await json_of(
            await cast.other.client.get("/api/v1/tickets/count", query_string={"q": q})
        )
        assert count["count"] == len(found)
    response = await cast.other.client.get("/api/v1/tickets", query_string={"q": "oscar"})
    assert [t["id"] for t in (await json_of(response))["items"]] == [oscars["id"]]
