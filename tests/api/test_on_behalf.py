"""Staff log a call for a student who phoned in: the ticket is the student's, not theirs."""

from __future__ import annotations

from helpdesk.models import Event, Ticket
from tests.conftest import TICKET, create_ticket, json_of


async def test_staff_report_on_behalf_of_a_reporter(app, cast):
    ticket = await create_ticket(cast.staff.client, reporter_id=cast.reporter.id)

    assert ticket["reporter"]["id"] == cast.reporter.id
    mine = await json_of(await cast.reporter.client.get("/api/v1/tickets"))
    assert [t["id"] for t in mine["items"]] == [ticket["id"]]
    created = await Event.filter(kind="ticket.created").values_list("room", flat=True)
    assert f"user:{cast.reporter.id}" in created
    assert f"user:{cast.staff.id}" not in created


async def test_a_reporter_may_not_report_for_someone_else(app, cast):
    response = await cast.reporter.client.post(
        "/api/v1/tickets", json={**TICKET, "reporter_id": cast.other.id}
    )
    assert response.status_code == 403
    assert (await json_of(response))["error"]["field"] == "reporter_id"
    assert not await Ticket.exists()


async def test_reporting_for_an_account_that_does_not_exist_is_refused(app, cast):
    for reporter_id in (999_999, "7"):
        response = await cast.staff.client.post(
            "/api/v1/tickets", json={**TICKET, "reporter_id": reporter_id}
        )
        assert response.status_code == 400
        assert (await json_of(response))["error"]["field"] == "reporter_id"
    assert not await Ticket.exists()
