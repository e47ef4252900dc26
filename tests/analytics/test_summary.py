"""The analytics summary: exact numbers on tickets with known timestamps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from helpdesk.analytics.queries import Summary, Window, summarize
from helpdesk.db import read_connection, refresh_statistics
from helpdesk.models import Category, Role, Status, Ticket
from helpdesk.sql import Database
from tests.conftest import create_ticket, json_of, make_user

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def ticket(
    reporter,
    *,
    age: timedelta,
    status: Status = Status.OPEN,
    category: Category = Category.IT,
    location: str | None = None,
    first_response_after: timedelta | None = None,
    closed_after: timedelta | None = None,
    assignee=None,
) -> Ticket:
    created = NOW - age
    return await Ticket.create(
        reporter=reporter,
        assignee=assignee,
        title="t",
        description="d",
        category=category,
        location=location,
        status=status,
        created_at=created,
        updated_at=created,
        first_response_at=created + first_response_after if first_response_after else None,
        closed_at=created + closed_after if closed_after else None,
        first_response_seconds=_seconds(first_response_after),
        resolution_seconds=_seconds(closed_after),
    )


def _seconds(delay: timedelta | None) -> int | None:
    """What the domain records beside each timestamp (see helpdesk/domain)."""
    return round(delay.total_seconds()) if delay else None


@pytest.fixture
async def people(app):
    return (
        await make_user("rita"),
        await make_user("sam", Role.STAFF),
        await make_user("priya", Role.STAFF),
    )


async def test_percentiles_interpolate_between_ranks(people):
    rita, _, _ = people
    for minutes in (1, 2, 3, 4):
        await ticket(rita, age=timedelta(hours=5), first_response_after=timedelta(minutes=minutes))
    summary = await summarize(Window(days=7), NOW)
    # sorted 60, 120, 180, 240 s: median halfway between 120 and 180; p90 at rank 3.7
    assert summary["first_response_seconds"] == {"median": 150.0, "p90": 222.0}
    assert summary["resolution_seconds"] == {"median": None, "p90": None}


@pytest.mark.parametrize("size", [2, 5, 10, 11, 21])
async def test_percentiles_match_percentile_cont_from_either_end(people, size):
    """The p90 is read from the top of the index, the median from the bottom: both must
    give what percentile_cont gives, ties included."""
    rita, _, _ = people
    seconds = [60 * ((n * 7) % 13) + 60 for n in range(size)]  # unsorted, with repeats
    for value in seconds:
        delay = timedelta(seconds=value)
        await ticket(rita, age=timedelta(hours=5), first_response_after=delay)

    ranked = sorted(seconds)

    def percentile_cont(fraction: float) -> float:
        position = (len(ranked) - 1) * fraction
        low = ranked[int(position)]
        high = ranked[min(int(position) + 1, len(ranked) - 1)]
        return round(low + (high - low) * (position - int(position)), 1)

    summary = await summarize(Window(days=7), NOW)
    expected = {"median": percentile_cont(0.5), "p90": percentile_cont(0.9)}
    assert summary["first_response_seconds"] == pytest.approx(expected)


async def test_single_value_and_odd_counts(people):
    rita, _, _ = people
    await ticket(
        rita,
        age=timedelta(days=1),
        status=Status.CLOSED,
        first_response_after=timedelta(minutes=10),
        closed_after=timedelta(hours=2),
    )
    one = await summarize(Window(days=7), NOW)
    assert one["resolution_seconds"] == {"median": 7200.0, "p90": 7200.0}
    for hours in (1, 3):
        await ticket(
            rita,
            age=timedelta(days=1),
            status=Status.CLOSED,
            first_response_after=timedelta(minutes=5),
            closed_after=timedelta(hours=hours),
        )
    three = await summarize(Window(days=7), NOW)
    # 3600, 7200, 10800 s: median the middle one; p90 at rank 2.8
    assert three["resolution_seconds"] == {"median": 7200.0, "p90": 10080.0}


async def test_windows_count_whole_utc_days_and_keep_empty_ones(people):
    rita, _, _ = people
    await ticket(rita, age=timedelta(hours=1))  # 2026-11-20
    await ticket(rita, age=timedelta(days=2, hours=1))  # 2026-11-18
    await ticket(
        rita,
        age=timedelta(days=2, hours=2),
        status=Status.CLOSED,
        first_response_after=timedelta(minutes=1),
        closed_after=timedelta(days=1),
    )
    await ticket(rita, age=timedelta(days=30))  # outside a 7-day window
    summary = await summarize(Window(days=7), NOW)
    opened = {entry["date"]: entry["count"] for entry in summary["opened_per_day"]}
    assert list(opened) == [f"2026-11-{day}" for day in range(14, 21)]
    assert opened == {**dict.fromkeys(opened, 0), "2026-11-18": 2, "2026-11-20": 1}
    closed = {entry["date"]: entry["count"] for entry in summary["closed_per_day"]}
    assert closed["2026-11-19"] == 1
    assert sum(closed.values()) == 1


async def test_backlog_age_buckets_count_only_waiting_tickets(people):
    rita, _, _ = people
    for age in (
        timedelta(minutes=30),
        timedelta(hours=5),
        timedelta(days=2),
        timedelta(days=5),
        timedelta(days=10),
        timedelta(days=11),
    ):
        await ticket(rita, age=age, status=Status.ACTIVE if age.days % 2 else Status.OPEN)
    await ticket(
        rita,
        age=timedelta(minutes=5),
        status=Status.CLOSED,
        first_response_after=timedelta(minutes=1),
        closed_after=timedelta(minutes=2),
    )
    summary = await summarize(Window(days=30), NOW)
    assert summary["backlog_age"] == [
        {"bucket": "<1h", "count": 1},
        {"bucket": "1h-1d", "count": 1},
        {"bucket": "1d-3d", "count": 1},
        {"bucket": "3d-7d", "count": 1},
        {"bucket": ">7d", "count": 2},
    ]


async def test_top_locations_group_by_building(people):
    rita, _, _ = people
    await ticket(rita, age=timedelta(hours=1), location="Dorm B, room 214")
    await ticket(rita, age=timedelta(hours=1), location="Dorm B, room 120", status=Status.ACTIVE)
    await ticket(rita, age=timedelta(hours=1), location="Library")
    await ticket(rita, age=timedelta(hours=1), location=None)
    await ticket(
        rita,
        age=timedelta(hours=1),
        location="Cafeteria",
        status=Status.CLOSED,
        first_response_after=timedelta(minutes=1),
        closed_after=timedelta(minutes=9),
    )
    summary = await summarize(Window(), NOW)
    assert summary["top_locations"] == [
        {"location": "Dorm B", "open": 1, "active": 1},
        {"location": "Library", "open": 1, "active": 0},
    ]


async def test_staff_load_and_category_filter(people):
    rita, sam, priya = people
    await ticket(rita, age=timedelta(hours=3), status=Status.ACTIVE, assignee=sam)
    await ticket(
        rita,
        age=timedelta(hours=3),
        status=Status.ACTIVE,
        assignee=sam,
        category=Category.FACILITIES,
    )
    await ticket(
        rita,
        age=timedelta(days=2),
        status=Status.CLOSED,
        assignee=priya,
        first_response_after=timedelta(minutes=3),
        closed_after=timedelta(hours=1),
    )
    summary = await summarize(Window(), NOW)
    assert [
        (load["user"]["username"], load["active"], load["closed_in_window"])
        for load in summary["staff_load"]
    ] == [("sam", 2, 0), ("priya", 0, 1)]
    it_only = await summarize(Window(category=Category.IT), NOW)
    assert it_only["by_category"] == {"facilities": 0, "it": 2, "services": 0}
    assert it_only["by_status"] == {"open": 0, "active": 1, "closed": 1}
    assert [(load["user"]["username"], load["active"]) for load in it_only["staff_load"]] == [
        ("sam", 1),
        ("priya", 0),
    ]


async def test_counts_agree_with_the_tickets_api(app, cast):
    for n in range(5):
        await create_ticket(cast.reporter.client, category=("it", "facilities")[n % 2])
    await cast.staff.client.post("/api/v1/tickets/1/status", json={"status": "active"})
    await cast.staff.client.post("/api/v1/tickets/1/status", json={"status": "closed"})
    await cast.staff.client.post("/api/v1/tickets/2/status", json={"status": "active"})
    summary = await json_of(await cast.staff.client.get("/api/v1/analytics/summary"))
    for status in ("open", "active", "closed"):
        listed = await json_of(await cast.staff.client.get(f"/api/v1/tickets?status={status}"))
        assert summary["by_status"][status] == len(listed["items"])
    for category in ("it", "facilities", "services"):
        listed = await json_of(await cast.staff.client.get(f"/api/v1/tickets?category={category}"))
        assert summary["by_category"][category] == len(listed["items"])
    assert sum(day["count"] for day in summary["opened_per_day"]) == 5
    assert summary["resolution_seconds"]["median"] is not None


async def test_an_empty_category_is_not_given(app, cast):
    await create_ticket(cast.reporter.client, category="it")
    response = await cast.staff.client.get("/api/v1/analytics/summary?days=7&category=")
    summary = await json_of(response)
    assert summary["window"]["days"] == 7
    assert summary["window"]["category"] is None
    assert summary["by_category"]["it"] == 1
    csv = await cast.staff.client.get("/api/v1/analytics/report.csv?days=7&category=")
    assert csv.status_code == 200
    assert 'filename="helpdesk-report-7d.csv"' in csv.headers["Content-Disposition"]


@pytest.mark.parametrize("query", ["days=0", "days=366", "days=x", "category=plumbing"])
async def test_bad_parameters_are_400(app, cast, query):
    response = await cast.staff.client.get(f"/api/v1/analytics/summary?{query}")
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] in ("days", "category")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/analytics/summary",
        "/api/v1/analytics/report.csv",
        "/analytics",
        "/analytics/report",
        "/analytics/charts/backlog.svg",
    ],
)
async def test_analytics_is_for_staff_only(app, cast, path):
    assert (await cast.reporter.client.get(path)).status_code == 403
    assert (await cast.anonymous.client.get(path)).status_code in (401, 302)
    assert (await cast.staff.client.get(path)).status_code == 200


async def test_a_summary_reads_beside_an_open_write_transaction(people):
    """A long report must not queue chat writes behind it, nor wait behind them (on SQLite the
    one write connection is serialized, so analytics reads through a connection of its own)."""
    rita, _, _ = people
    await ticket(rita, age=timedelta(hours=1))
    written, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with in_transaction("default"):
            await ticket(rita, age=timedelta(hours=2))
            written.set()
            await release.wait()  # holds the write transaction open, uncommitted

    writing = asyncio.create_task(writer())
    await written.wait()
    try:
        summary = await asyncio.wait_for(summarize(Window(days=30), NOW), timeout=5)
    finally:
        release.set()
        await writing
    assert summary["by_status"]["open"] == 1  # what was committed, nothing half-written


async def test_grouped_counts_read_their_indexes_in_order(people, monkeypatch):
    """The per-day and per-assignee counts group in index order: a query that stops matching
    its index (migration 0004) would sort every ticket in the window per request again. (The
    top locations' partial index pays off only at scale, where the bench measures it; on a
    table this small SQLite rightly prefers the status index.)"""
    rita, sam, _ = people
    for hours in range(1, 60):  # mostly closed, as on a real campus
        where = f"Dorm {hours % 3}, room {hours}"
        await ticket(rita, age=timedelta(hours=hours * 7), location=where)
        for _ in range(4):
            closed = timedelta(hours=1)
            await ticket(
                rita,
                age=timedelta(hours=hours),
                status=Status.CLOSED,
                closed_after=closed,
                assignee=sam,
            )
    statements: list[tuple[str, dict]] = []
    original = Summary.rows

    async def recorded(self: Summary, sql: str, **extra: object) -> list[dict]:
        statements.append((sql, {**self.params, **extra}))
        return await original(self, sql, **extra)

    monkeypatch.setattr(Summary, "rows", recorded)
    await summarize(Window(days=30), NOW)
    db = Database(read_connection())
    if db.dialect.name != "sqlite":
        indexes = await db.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'ticket'")
        names = {row["indexname"] for row in indexes}
        assert {"idx_ticket_created_day", "idx_ticket_closed_day"} <= names
        assert "idx_ticket_waiting_building" in names
        return  # PostgreSQL's planner picks by table size: a test table is read whole

    await refresh_statistics()  # as `serve` does at start-up: the planner weighs indexes by it
    grouped = [(sql, params) for sql, params in statements if "GROUP BY" in sql]
    checked = [
        (sql, params) for sql, params in grouped if "AS day" in sql or "closed_at >= :start" in sql
    ]
    assert len(checked) == 3  # opened and closed per day, closed per assignee
    for sql, params in checked:
        query, values = db.bind(sql, params)
        plan = await db.connection.execute_query_dict(f"EXPLAIN QUERY PLAN {query}", values)
        steps = " / ".join(row["detail"] for row in plan)
        assert "TEMP B-TREE FOR GROUP BY" not in steps, (sql, steps)
