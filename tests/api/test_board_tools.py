"""The board's tools over the API: bulk assign and bulk merge, saved filters."""

from __future__ import annotations

import pytest

from tests.conftest import create_ticket, json_of


async def known_issue(cast) -> dict:
    ticket = await create_ticket(cast.reporter.client, title="No wifi in the library")
    response = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/known-issue", json={"public_title": "Library wifi outage"}
    )
    assert response.status_code == 201
    return await response.get_json()


async def bulk(client, **body):
    return await client.post("/api/v1/tickets/bulk", json=body)


async def test_several_duplicates_are_merged_at_once_each_with_its_own_answer(app, cast):
    issue = await known_issue(cast)
    duplicates = [await create_ticket(cast.other.client, title=f"wifi {n}") for n in range(3)]
    closed = duplicates[0]
    for status in ("active", "closed"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{closed['id']}/status", json={"status": status}
        )
    ids = [each["id"] for each in duplicates] + [987654]
    response = await bulk(cast.staff.client, ids=ids, action="merge", into=issue["id"])
    assert response.status_code == 200
    results = (await response.get_json())["results"]
    assert [each["status"] for each in results] == [409, 200, 200, 404]
    assert all(each["ticket"]["merged_into"] == issue["id"] for each in results[1:3])
    [listed] = (await json_of(await cast.other.client.get("/api/v1/known-issues")))["items"]
    assert (listed["affected_count"], listed["affected_by_me"]) == (2, True)


async def test_bulk_assign_assigns_every_ticket(app, cast):
    tickets = [await create_ticket(cast.reporter.client) for _ in range(2)]
    ids = [each["id"] for each in tickets]
    response = await bulk(cast.staff.client, ids=ids, action="assign", assignee_id=cast.staff.id)
    results = (await response.get_json())["results"]
    assert [each["ticket"]["assignee"]["id"] for each in results] == [cast.staff.id] * 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "action": "assign"}, "ids"),
        ({"ids": [1], "action": "close"}, "action"),
        ({"ids": [1, 1], "action": "assign"}, None),
        ({"ids": [1], "action": "merge"}, None),
        ({"ids": list(range(1, 102)), "action": "assign"}, "ids"),
    ],
)
async def test_a_bad_bulk_request_is_refused_and_changes_nothing(app, cast, body, field):
    ticket = await create_ticket(cast.reporter.client)
    body = {**body, "ids": [ticket["id"] if each == 1 else each for each in body["ids"]]}
    response = await bulk(cast.staff.client, **body)
    assert response.status_code == 400
    if field:
        assert (await json_of(response))["error"]["field"] == field
    unchanged = await json_of(await cast.staff.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert unchanged["assignee"] is None and unchanged["status"] == "open"


async def test_reporters_have_no_bulk_actions(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await bulk(cast.reporter.client, ids=[ticket["id"]], action="assign")
    assert response.status_code == 403


async def test_a_staff_member_keeps_filters_under_names_of_their_own(app, cast):
    path = "/api/v1/me/filters"
    made = await cast.staff.client.post(path, json={"name": "Wifi", "query": "status=open&q=wifi"})
    assert made.status_code == 201
    again = await cast.staff.client.post(path, json={"name": "Wifi", "query": "?q=eduroam"})
    assert again.status_code == 200
    assert (await json_of(again))["query"] == "q=eduroam"
    assert (await json_of(await cast.staff.client.get(path)))["items"] == [
        {"id": (await json_of(made))["id"], "name": "Wifi", "query": "q=eduroam"}
    ]
    assert (await json_of(await cast.admin.client.get(path)))["items"] == []
    saved = (await json_of(made))["id"]
    assert (await cast.admin.client.delete(f"{path}/{saved}")).status_code == 404
    assert (await cast.staff.client.delete(f"{path}/{saved}")).status_code == 204
    assert (await cast.reporter.client.get(path)).status_code == 403


@pytest.mark.parametrize(
    "query", ["status=broken", "colour=red", "limit=1000", "q=" + "x" * 300, "a&&&==b"]
)
async def test_a_filter_the_board_could_not_use_is_refused(app, cast, query):
    response = await cast.staff.client.post(
        "/api/v1/me/filters", json={"name": "x", "query": query}
    )
    assert response.status_code == 400
    assert (await json_of(response))["error"]["field"] == "query"
