"""Reporters may open only so many tickets an hour, so no script or stuck form floods the board."""

from __future__ import annotations

import pytest

from tests.conftest import TICKET, create_ticket, json_of, settings_for

LIMIT = 3


@pytest.fixture
def app_settings(tmp_path, database_url):
    return settings_for(tmp_path, database_url=database_url, reports_per_hour=LIMIT)


async def test_a_reporter_over_the_hourly_limit_gets_429_and_when_to_retry(app, cast):
    for _ in range(LIMIT):
        await create_ticket(cast.reporter.client)
    refused = await cast.reporter.client.post("/api/v1/tickets", json=TICKET)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert (await json_of(refused))["error"]["code"] == "rate_limited"
    listed = await json_of(await cast.reporter.client.get("/api/v1/tickets"))
    assert len(listed["items"]) == LIMIT  # the refused one was not stored

    await create_ticket(cast.other.client)  # each reporter has their own allowance
    for _ in range(LIMIT + 2):  # staff log calls for others: not limited
        await create_ticket(cast.staff.client)


async def test_the_report_form_keeps_what_was_typed_when_over_the_limit(app, cast):
    for _ in range(LIMIT):
        await create_ticket(cast.reporter.client)
    form = {**TICKET, "title": "Window <b>stuck</b> open", "priority": "normal"}
    response = await cast.reporter.client.post("/tickets/new", form=form)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    page = await response.get_data(as_text=True)
    assert "reported many issues in the last hour" in page
    assert "Window &lt;b&gt;stuck&lt;/b&gt; open" in page  # kept, and escaped
