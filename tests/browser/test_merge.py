"""One outage, many reports: staff publish one ticket as a known issue from its page, close the
others as its duplicates from the board at once, and everyone sees it live."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_board import file_ticket, ticket_of
from tests.browser.test_journey import api_client, card, mark_no_reload, ready

OUTAGE = {"category": "it", "location": "Library, 2nd floor"}


def report(live, username: str, title: str) -> int:
    body = {"title": title, "description": "Eduroam keeps dropping.", **OUTAGE}
    with api_client(live, username) as client:
        response = client.post("/api/v1/tickets", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def test_a_known_issue_is_published_and_duplicates_closed_into_it_from_the_board(
    open_session, live
):
    first = report(live, "alice", "No wifi in the library")
    duplicates = [
        report(live, "ben", "Library wifi down"),
        report(live, "carla", "Cannot connect on the 2nd floor"),
    ]
    closed = file_ticket(live, "Wifi was slow last week", status="closed", **OUTAGE)

    sam = open_session("sam")
    sam.page.goto(f"/tickets/{first}")
    ready(sam.page)
    sam.page.get_by_text("Publish as known issue").click()
    expect(sam.page.locator("#publish-warning")).to_contain_text(
        "The reporter's own words, name and room are not shown"
    )
    title = sam.page.get_by_label("Public title")
    expect(title).to_have_value("No wifi in the library")
    title.fill("Library wifi outage")
    sam.page.get_by_label("Public note").fill("Engineers are replacing a router.")
    sam.page.get_by_role("button", name="Publish", exact=True).click()
    issue_id = ticket_of(live, first)["known_issue_id"]
    panel = sam.page.locator("#known-issue")
    expect(panel).to_contain_text(f"Published as known issue #{issue_id}")
    expect(panel.locator("#affected-count")).to_have_text("1")

    # Who watches: the issue's own ticket page, another board, a duplicate's reporter.
    priya = open_session("priya")
    priya.page.goto(f"/tickets/{first}")
    ready(priya.page)
    mark_no_reload(priya.page)
    watcher = open_session("priya")
    watcher.page.goto("/board")
    ready(watcher.page)
    expect(card(watcher.page, first).locator(".card-affected")).to_have_text("1 affected")
    ben = open_session("ben")
    ben.page.goto(f"/tickets/{duplicates[0]}")
    ready(ben.page)
    mark_no_reload(ben.page)

    sam.page.goto("/board")
    ready(sam.page)
    card(sam.page, duplicates[0]).get_by_label(re.compile(f"^Select #{duplicates[0]} ")).check()
    card(sam.page, duplicates[1]).focus()
    sam.page.keyboard.press("Space")
    card(sam.page, closed).get_by_label(re.compile(f"^Select #{closed} ")).check()
    bar = sam.page.get_by_role("region", name="Selected tickets")
    expect(sam.page.locator("#bulk-count")).to_have_text("3 tickets selected")
    bar.get_by_role("button", name="Close as duplicate of…").click()

    dialog = sam.page.get_by_role("dialog", name="Close 3 tickets as duplicates")
    dialog.get_by_label(f"#{issue_id} Library wifi outage").check()
    dialog.get_by_role("button", name="Close as duplicates").click()
    expect(dialog).to_be_hidden()

    results = sam.page.locator("#bulk-results")
    expect(results).to_contain_text("2 tickets changed, 1 refused.")
    for ticket_id in duplicates:
        expect(results).to_contain_text(
            f"#{ticket_id} is closed as a duplicate of known issue #{issue_id}."
        )
    expect(results.locator(".refused")).to_have_text(
        f"#{closed} was not changed: Only open or active tickets can be merged into a known issue."
    )
    expect(sam.page.locator("#bulk-count")).to_have_text("1 ticket selected")

    for page in (sam.page, watcher.page):
        for ticket_id in duplicates:
            moved = card(page, ticket_id, "closed")
            expect(moved.locator(".card-merged")).to_have_text(
                f"duplicate of known issue #{issue_id}"
            )
        expect(card(page, first).locator(".card-affected")).to_have_text("3 affected")

    expect(priya.page.locator("#affected-count")).to_have_text("3")
    for ticket_id in duplicates:
        expect(priya.page.locator(f'#history [data-merged-ticket="{ticket_id}"]')).to_have_text(
            re.compile(f"^#{ticket_id} was merged into this")
        )

    note = ben.page.locator(".conversation-event .event-note").last
    expect(note).to_have_text(
        f"Closed as a duplicate of known issue #{issue_id}: Library wifi outage"
    )
    expect(note.get_by_role("link", name=f"#{issue_id}")).to_have_attribute(
        "href", f"/known-issues/{issue_id}"
    )
    expect(ben.page.locator("#merged-notice")).to_contain_text(
        f"Closed as a duplicate of known issue #{issue_id}"
    )
    with api_client(live, "ben") as client:
        [listed] = client.get("/api/v1/known-issues").json()["items"]
    assert (listed["id"], listed["affected_count"], listed["affected_by_me"]) == (issue_id, 3, True)

    # Reloaded, the issue's page lists the same merges from the server.
    priya.page.reload()
    ready(priya.page)
    for ticket_id in duplicates:
        expect(priya.page.locator(f'#history [data-merged-ticket="{ticket_id}"]')).to_have_text(
            re.compile(f"^#{ticket_id} was merged into this")
        )


def test_staff_post_an_update_and_the_count_follows_a_me_too_live(open_session, live):
    ticket_id = report(live, "dmitri", "Printer on floor 3 offline")
    with api_client(live, "priya") as priya:
        published = priya.post(
            f"/api/v1/tickets/{ticket_id}/known-issue", json={"public_title": "Floor 3 printer"}
        )
        assert published.status_code == 201
    issue_id = published.json()["id"]
    sam = open_session("sam")
    sam.page.goto(f"/tickets/{ticket_id}")
    ready(sam.page)
    mark_no_reload(sam.page)
    expect(sam.page.locator("#affected-count")).to_have_text("1")

    with api_client(live, "carla") as carla:
        assert carla.post(f"/api/v1/known-issues/{issue_id}/affected").status_code == 201
    expect(sam.page.locator("#affected-count")).to_have_text("2")

    sam.page.get_by_label("Post an update to everyone affected").fill("A technician is on the way.")
    sam.page.get_by_role("button", name="Post update").click()
    expect(sam.page.locator("#issue-updates li")).to_have_count(1)
    expect(sam.page.locator("#issue-updates")).to_contain_text("A technician is on the way.")
    expect(sam.page.get_by_label("Post an update to everyone affected")).to_have_value("")
    with api_client(live, "carla") as carla:
        detail = carla.get(f"/api/v1/known-issues/{issue_id}").json()
    assert [each["body"] for each in detail["updates"]] == ["A technician is on the way."]

    sam.page.get_by_role("button", name="Withdraw").click()
    expect(sam.page.get_by_text("Publish as known issue")).to_be_visible()
    assert ticket_of(live, ticket_id)["known_issue_id"] is None


def test_possible_duplicates_are_asked_for_when_a_card_opens_them(open_session, live):
    heating = {"category": "facilities", "location": "Dorm C, room 12"}
    first = file_ticket(live, "Heating off in Dorm C", **heating)
    with api_client(live, "priya") as priya:
        published = priya.post(
            f"/api/v1/tickets/{first}/known-issue", json={"public_title": "Dorm C heating"}
        )
        assert published.status_code == 201
    issue_id = published.json()["id"]
    body = {"title": "No heating in Dorm C room 40", "description": "Cold radiators."}
    with api_client(live, "ben") as ben:
        duplicate = ben.post(
            "/api/v1/tickets", json={**body, **heating, "location": "Dorm C, room 40"}
        ).json()["id"]

    sam = open_session("sam")
    asked: list[str] = []
    sam.page.on(
        "request", lambda request: "/duplicates" in request.url and asked.append(request.url)
    )
    sam.page.goto("/board")
    ready(sam.page)
    assert asked == []  # nothing is asked for cards nobody opened

    hint = card(sam.page, duplicate, "open")
    hint.get_by_role("button", name="Possible duplicates").click()
    expect(hint.get_by_role("button", name="Possible duplicates")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(hint.locator(".card-dupes-list")).to_contain_text(
        f"Known issue #{issue_id} Dorm C heating"
    )
    assert asked == [f"{live.url}/api/v1/tickets/{duplicate}/duplicates"]

    hint.get_by_role("button", name="Close as its duplicate").click()
    dialog = sam.page.get_by_role("dialog", name=f"Close #{duplicate} as a duplicate")
    expect(dialog.get_by_label(f"#{issue_id} Dorm C heating")).to_be_checked()
    dialog.get_by_role("button", name="Close as a duplicate").click()
    expect(card(sam.page, duplicate, "closed").locator(".card-merged")).to_have_text(
        f"duplicate of known issue #{issue_id}"
    )
    assert ticket_of(live, duplicate)["merged_into"] == issue_id
