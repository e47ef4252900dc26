"""Known issues over the API: publishing, the public view and its privacy, "me too", public
updates and status changes reaching everyone affected, withdrawing, and merging duplicates."""

from __future__ import annotations

import pytest

from helpdesk.consumers.known_issues import FanOutSender
from helpdesk.domain.events import KNOWN_ISSUES_ROOM, user_room
from helpdesk.encoding import loads
from helpdesk.models import Affected, Event, FanOut, utcnow
from tests.conftest import create_ticket, json_of, make_user, signed_in_client

PUBLIC_FIELDS = {
    "id",
    "public_title",
    "public_note",
    "building",
    "status",
    "affected_count",
    "affected_by_me",
    "published_at",
    "updated_at",
    "last_update",
}
SECRET = "Rita Reporter in room 214 says her ex broke it"


async def outage(cast, **fields) -> dict:
    return await create_ticket(
        cast.reporter.client,
        title="No wifi in the library",
        description=SECRET,
        location="Library, 2nd floor",
        **fields,
    )


async def publish(client, ticket_id: int, **body):
    body = {"public_title": "Library wifi outage", "public_note": "Engineers are on it", **body}
    return await client.post(f"/api/v1/tickets/{ticket_id}/known-issue", json=body)


async def published(cast) -> tuple[dict, dict]:
    ticket = await outage(cast)
    response = await publish(cast.staff.client, ticket["id"])
    assert response.status_code == 201, await response.get_data(as_text=True)
    return ticket, await response.get_json()


async def listed(client, query: str = "") -> list[dict]:
    response = await client.get(f"/api/v1/known-issues{query}")
    assert response.status_code == 200
    return (await response.get_json())["items"]


async def events_in(room: str, kind: str | None = None) -> list[dict]:
    rows = Event.filter(room=room).order_by("id")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return [{"kind": row.kind, **loads(row.data)} for row in await rows]


async def test_staff_publish_a_ticket_and_everyone_sees_only_its_public_words(app, cast):
    ticket, issue = await published(cast)
    assert set(issue) == PUBLIC_FIELDS
    assert issue["building"] == "Library"
    assert issue["affected_count"] == 1  # its reporter
    for actor in (cast.reporter, cast.other, cast.staff, cast.admin):
        [seen] = await listed(actor.client)
        assert set(seen) == PUBLIC_FIELDS
        assert SECRET not in str(seen) and "rita" not in str(seen).lower()
        assert seen["public_title"] == "Library wifi outage"
    assert (await listed(cast.other.client))[0]["affected_by_me"] is False
    assert (await listed(cast.reporter.client))[0]["affected_by_me"] is True
    for event in await events_in(KNOWN_ISSUES_ROOM):
        assert SECRET not in str(event) and "rita" not in str(event).lower()
    board_ticket = await json_of(await cast.staff.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert board_ticket["known_issue_id"] == issue["id"]
    assert board_ticket["affected_count"] == 1


async def test_only_staff_publish_and_publishing_again_changes_the_words(app, cast):
    ticket = await outage(cast)
    assert (await publish(cast.reporter.client, ticket["id"])).status_code == 403
    assert (await publish(cast.staff.client, ticket["id"])).status_code == 201
    again = await publish(cast.staff.client, ticket["id"], public_title="Wifi down in the library")
    assert again.status_code == 200
    assert [each["public_title"] for each in await listed(cast.other.client)] == [
        "Wifi down in the library"
    ]
    empty = await publish(cast.staff.client, ticket["id"], public_title="  ")
    assert empty.status_code == 400


async def test_me_too_is_counted_once_and_can_be_taken_back(app, cast):
    _, issue = await published(cast)
    path = f"/api/v1/known-issues/{issue['id']}/affected"
    first = await cast.other.client.post(path)
    assert first.status_code == 201
    assert (await json_of(first))["affected_count"] == 2
    assert (await json_of(first))["affected_by_me"] is True
    assert (await cast.other.client.post(path)).status_code == 200
    assert await Affected.filter(known_issue_id=issue["id"]).count() == 2
    assert (await cast.other.client.delete(path)).status_code == 204
    [seen] = await listed(cast.other.client)
    assert (seen["affected_count"], seen["affected_by_me"]) == (1, False)
    counts = [
        each["affected_count"]
        for each in await events_in(KNOWN_ISSUES_ROOM, "known_issue.affected")
    ]
    assert counts == [2, 1]
    assert (await cast.other.client.post("/api/v1/known-issues/987654/affected")).status_code == 404


async def test_an_update_reaches_everyone_affected_in_batches(app, cast):
    await app.consumers.stop()  # this test runs the sender itself, a batch at a time
    _, issue = await published(cast)
    crowd = [await make_user(f"student{n}") for n in range(5)]
    for person in crowd:
        client = await signed_in_client(app, person)
        assert (
            await client.post(f"/api/v1/known-issues/{issue['id']}/affected")
        ).status_code == 201
    response = await cast.staff.client.post(
        f"/api/v1/known-issues/{issue['id']}/updates", json={"body": "Fixed by 3 pm"}
    )
    assert response.status_code == 201
    assert (await json_of(response))["last_update"]["body"] == "Fixed by 3 pm"
    sender = FanOutSender(app.event_log, batch=2)
    job = await FanOut.get(known_issue_id=issue["id"])
    await sender.step(job, utcnow())  # one batch of two, then it stops (a restart, say)
    people = [cast.reporter.user, *crowd]
    told = [p for p in people if await events_in(user_room(p.id), "known_issue.update_posted")]
    assert len(told) == 2
    await FanOutSender(app.event_log, batch=2).tick(utcnow())
    for person in people:
        [news] = await events_in(user_room(person.id), "known_issue.update_posted")
        assert news["last_update"]["body"] == "Fixed by 3 pm"
        assert SECRET not in str(news)
    assert await events_in(user_room(cast.other.id)) == []
    assert (await FanOut.get(id=job.id)).done_at is not None


async def test_when_the_issue_is_fixed_the_affected_hear_it_and_its_reporter_once(app, cast):
    await app.consumers.stop()  # this test runs the consumers' round itself
    ticket, issue = await published(cast)
    await cast.other.client.post(f"/api/v1/known-issues/{issue['id']}/affected")
    for status in ("active", "closed"):
        response = await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
        assert response.status_code == 200
    await app.consumers.round()
    fixed = await events_in(user_room(cast.other.id), "known_issue.status_changed")
    assert [each["status"] for each in fixed] == ["active", "closed"]
    assert await events_in(user_room(cast.reporter.id), "known_issue.status_changed") == []
    assert [each["status"] for each in await listed(cast.other.client)] == ["closed"]
    shown = await events_in(KNOWN_ISSUES_ROOM, "known_issue.status_changed")
    assert [each["status"] for each in shown] == ["active", "closed"], "every list, once each"


async def test_only_staff_post_updates_and_every_update_is_listed(app, cast):
    _, issue = await published(cast)
    path = f"/api/v1/known-issues/{issue['id']}/updates"
    assert (await cast.reporter.client.post(path, json={"body": "hi"})).status_code == 403
    for body in ("Parts ordered", "Technician at 3 pm"):
        assert (await cast.staff.client.post(path, json={"body": body})).status_code == 201
    detail = await json_of(await cast.other.client.get(f"/api/v1/known-issues/{issue['id']}"))
    assert [each["body"] for each in detail["updates"]] == ["Parts ordered", "Technician at 3 pm"]
    assert detail["last_update"]["body"] == "Technician at 3 pm"


async def test_a_withdrawn_issue_is_not_listed_and_keeps_its_affected(app, cast):
    ticket, issue = await published(cast)
    await cast.other.client.post(f"/api/v1/known-issues/{issue['id']}/affected")
    assert (
        await cast.reporter.client.delete(f"/api/v1/tickets/{ticket['id']}/known-issue")
    ).status_code == 403
    assert (
        await cast.staff.client.delete(f"/api/v1/tickets/{ticket['id']}/known-issue")
    ).status_code == 204
    assert await listed(cast.other.client) == []
    assert (await cast.other.client.get(f"/api/v1/known-issues/{issue['id']}")).status_code == 404
    assert (
        await cast.other.client.post(f"/api/v1/known-issues/{issue['id']}/affected")
    ).status_code == 404
    assert (await publish(cast.staff.client, ticket["id"])).status_code == 200
    [back] = await listed(cast.other.client)
    assert (back["affected_count"], back["affected_by_me"]) == (2, True)


async def test_a_duplicate_is_closed_into_the_known_issue_and_its_reporter_follows_it(app, cast):
    issue_ticket, issue = await published(cast)
    duplicate = await create_ticket(cast.other.client, title="wifi gone", location="Library")
    response = await cast.staff.client.post(
        f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": issue["id"]}
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    merged = await response.get_json()
    assert (merged["status"], merged["merged_into"]) == ("closed", issue["id"])
    history = await json_of(
        await cast.other.client.get(f"/api/v1/tickets/{duplicate['id']}/history")
    )
    assert f"known issue #{issue['id']}: Library wifi outage" in history["items"][-1]["note"]
    [seen] = await listed(cast.other.client)
    assert (seen["affected_count"], seen["affected_by_me"]) == (2, True)
    again = await cast.staff.client.post(
        f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": issue["id"]}
    )
    assert again.status_code == 409
    original = f"/api/v1/tickets/{issue_ticket['id']}/history"
    [merge] = [
        each
        for each in (await json_of(await cast.staff.client.get(original)))["items"]
        if each["kind"] == "merge"
    ]
    assert (merge["ticket_id"], merge["known_issue_id"]) == (duplicate["id"], issue["id"])
    assert merge["actor"]["id"] == cast.staff.id
    for_reporter = (await json_of(await cast.reporter.client.get(original)))["items"]
    assert all(each["kind"] != "merge" for each in for_reporter), "never another's ticket"
    [event] = await events_in(f"ticket:{issue_ticket['id']}", "ticket.merged")
    assert event["actor"]["id"] == cast.staff.id


@pytest.mark.parametrize("who", ["reporter", "other"])
async def test_only_staff_merge(app, cast, who):
    _, issue = await published(cast)
    duplicate = await create_ticket(cast.other.client)
    response = await getattr(cast, who).client.post(
        f"/api/v1/tickets/{duplicate['id']}/merge", json={"into": issue["id"]}
    )
    assert response.status_code in (403, 404)
    assert (await json_of(await cast.other.client.get(f"/api/v1/tickets/{duplicate['id']}")))[
        "status"
    ] == "open"


async def test_a_ticket_is_not_merged_into_its_own_issue_nor_into_a_missing_one(app, cast):
    ticket, issue = await published(cast)
    own = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/merge", json={"into": issue["id"]}
    )
    assert own.status_code == 400
    other = await create_ticket(cast.other.client)
    missing = await cast.staff.client.post(
        f"/api/v1/tickets/{other['id']}/merge", json={"into": 987654}
    )
    assert missing.status_code == 404
