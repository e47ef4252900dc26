"""Analytics pushed live (coalesced), the CSV report, the charts, the pages, the stand-alone app."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from helpdesk import create_app
from helpdesk.analytics import create_app as create_analytics_app
from helpdesk.models import Role
from tests.conftest import create_ticket, json_of, make_user, settings_for, signed_in_client
from tests.live.helpers import FrameReader


@pytest.fixture
def app_settings(tmp_path, database_url):
    return settings_for(tmp_path, database_url=database_url, analytics_interval_seconds=0.3)


async def test_a_burst_of_changes_costs_about_one_recomputation_per_interval(app, cast):
    async with cast.staff.client.websocket("/ws") as ws:
        board = FrameReader(ws)
        await board.join("board")
        before = app.analytics.recomputations
        for _ in range(15):
            await create_ticket(cast.reporter.client)
        await asyncio.sleep(0.9)
        pushed = [
            f for f in await board.nothing_more(within=0.4) if f.get("kind") == "analytics.updated"
        ]
    spent = app.analytics.recomputations - before
    assert 1 <= spent <= 4, spent  # 15 changes in ~0.1 s, then quiet: a handful, not 15
    assert 1 <= len(pushed) <= 4
    latest = pushed[-1]
    assert "id" not in latest, "analytics.updated is not logged, so it carries no id"
    assert latest["room"] == "board"
    assert latest["data"]["by_status"]["open"] == 15


async def test_chat_replies_do_not_cost_a_recomputation_but_the_first_response_does(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    messages = f"/api/v1/tickets/{ticket['id']}/messages"

    async def changes_after(client, **message) -> int:
        before = app.analytics.generation
        response = await client.post(messages, json={"body": "hello", **message})
        assert response.status_code == 201, await response.get_data(as_text=True)
        return app.analytics.generation - before

    assert await changes_after(cast.reporter.client) == 0
    assert await changes_after(cast.staff.client, internal=True) == 0
    assert await changes_after(cast.staff.client) == 1  # the first response: its time counts
    assert await changes_after(cast.staff.client) == 0
    assert await changes_after(cast.reporter.client) == 0
    summary = await json_of(await cast.staff.client.get("/api/v1/analytics/summary"))
    assert summary["first_response_seconds"]["median"] is not None


async def test_reporters_never_get_analytics(app, cast):
    async with cast.reporter.client.websocket("/ws") as ws:
        reporter = FrameReader(ws)
        await create_ticket(cast.reporter.client)
        await asyncio.sleep(0.5)
        frames = await reporter.nothing_more(within=0.3)
    assert not [f for f in frames if f.get("kind") == "analytics.updated"]


async def test_the_summary_api_is_fresh_right_after_a_change(app, cast):
    await cast.staff.client.get("/api/v1/analytics/summary")  # cached now
    await create_ticket(cast.reporter.client)
    summary = await json_of(await cast.staff.client.get("/api/v1/analytics/summary"))
    assert summary["by_status"]["open"] == 1


async def test_csv_report_has_its_columns_and_defuses_formulas(app, cast):
    await create_ticket(
        cast.reporter.client,
        title='=HYPERLINK("http://evil")',
        location='Dorm "B", room 2, east wing',
    )
    await cast.staff.client.post("/api/v1/tickets/1/messages", json={"body": "On it"})
    response = await cast.staff.client.get("/api/v1/analytics/report.csv?days=7")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.get_data(as_text=True))))
    assert rows[0] == [
        "id",
        "created_at",
        "title",
        "category",
        "location",
        "priority",
        "status",
        "reporter",
        "assignee",
        "first_response_at",
        "first_response_seconds",
        "closed_at",
        "resolution_seconds",
    ]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["title"] == '\'=HYPERLINK("http://evil")'
    assert record["location"] == 'Dorm "B", room 2, east wing'
    assert record["reporter"] == "rita"
    assert int(record["first_response_seconds"]) >= 0
    assert record["closed_at"] == ""
    assert len(rows) == 2


@pytest.mark.parametrize(
    "name", ["backlog", "status", "opened-closed", "response-times", "backlog-age", "top-locations"]
)
async def test_charts_are_real_svg_without_outside_resources(app, cast, name):
    await create_ticket(cast.reporter.client, location="Library, 2nd floor")
    response = await cast.staff.client.get(f"/analytics/charts/{name}.svg?days=7")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    svg = await response.get_data(as_text=True)
    assert "<svg" in svg and "</svg>" in svg
    assert "https://" not in svg and "<script" not in svg.replace("<script type", "")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_unknown_chart_is_404(app, cast):
    assert (await cast.staff.client.get("/analytics/charts/nope.svg")).status_code == 404


async def test_pages_show_the_numbers_and_the_charts(app, cast):
    await create_ticket(cast.reporter.client, location="Library, 2nd floor")
    page = await (await cast.staff.client.get("/analytics?days=7")).get_data(as_text=True)
    assert page.count('<img src="/analytics/charts/') == 6
    assert "Library" in page
    assert 'data-stat="by_status.open">1<' in page
    report = await (await cast.staff.client.get("/analytics/report?days=7")).get_data(as_text=True)
    assert "Helpdesk report: last 7 days" in report
    assert "Tickets opened per day" in report
    bad = await cast.staff.client.get("/analytics?days=9999")
    assert bad.status_code == 200, "a bad page parameter falls back to the default window"


async def test_an_empty_category_keeps_the_chosen_window_in_the_page_and_its_links(app, cast):
    """Category "All" submits `category=`: an empty value is not given, not a bad one."""
    page = await (await cast.staff.client.get("/analytics?days=7&category=")).get_data(as_text=True)
    assert '<option value="7" selected>Last 7 days</option>' in page
    assert 'href="/api/v1/analytics/report.csv?days=7"' in page
    assert 'href="/analytics/report?days=7"' in page
    assert 'data-days="7"' in page
    report = await cast.staff.client.get("/analytics/report?days=7&category=")
    assert "Helpdesk report: last 7 days" in await report.get_data(as_text=True)


async def test_a_bad_page_parameter_falls_back_alone(app, cast):
    page = await cast.staff.client.get("/analytics?days=7&category=plumbing")
    assert page.status_code == 200
    text = await page.get_data(as_text=True)
    assert '<option value="7" selected>Last 7 days</option>' in text
    assert 'href="/api/v1/analytics/report.csv?days=7"' in text


async def test_the_analytics_app_stands_alone_on_the_same_database(tmp_path):
    settings = settings_for(tmp_path, database_url=f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    main = create_app(settings)
    async with main.test_app():
        staff = await make_user("sam", role=Role.STAFF)
        reporter = await make_user("rita")
        await create_ticket(await signed_in_client(main, reporter))
    analytics = create_analytics_app(settings)
    assert "live.live_socket" not in analytics.view_functions
    assert "api_tickets.post_ticket" not in analytics.view_functions
    async with analytics.test_app():
        client = await signed_in_client(analytics, staff)
        summary = await json_of(await client.get("/api/v1/analytics/summary"))
        assert summary["by_status"]["open"] == 1
        page = await (await client.get("/analytics")).get_data(as_text=True)
        assert 'data-socket="off"' in page
        assert (await client.get("/login")).status_code in (200, 302)
