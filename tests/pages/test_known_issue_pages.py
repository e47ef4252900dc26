"""The known issues pages without JavaScript: the list by building and its filters, one issue
with every update, "I'm affected too" and its undo as plain forms, the dashboard's section, and
nothing of the ticket behind an issue but its building."""

from __future__ import annotations

import re

from helpdesk.models import Affected
from tests.conftest import create_ticket, make_user, signed_in_client

SECRET = "Rita left her laptop on the router in room 214"


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def publish(cast, title: str, location: str, public_title: str, **body) -> dict:
    ticket = await create_ticket(
        cast.reporter.client, title=title, description=SECRET, location=location
    )
    response = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/known-issue",
        json={"public_title": public_title, **body},
    )
    assert response.status_code == 201, await text(response)
    return {**(await response.get_json()), "ticket_id": ticket["id"]}


async def library_wifi(cast) -> dict:
    return await publish(
        cast,
        "No wifi at my desk in the library",
        "Library, 2nd floor, desk 12",
        "Library wifi outage",
        public_note="Engineers are on it",
    )


def card_of(html: str, issue_id: int) -> str:
    """One issue's card on a page: from its opening tag to the next card or the list's end."""
    found = re.search(rf'<li class="known-issue" id="known-issue-{issue_id}".*?</li>', html, re.S)
    assert found, f"no card for known issue {issue_id}"
    return found[0]


async def test_the_list_shows_each_issue_under_its_building_in_public_words_only(app, cast):
    heater = await publish(cast, "Freezing in 214", "Dorm B, room 214", "Dorm B heating is off")
    await cast.staff.client.post(
        f"/api/v1/tickets/{heater['ticket_id']}/status", json={"status": "active"}
    )
    wifi = await library_wifi(cast)  # the newest news, yet its building comes second: A to Z
    response = await cast.other.client.get("/known-issues")
    assert response.status_code == 200
    html = await text(response)
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings == ["Dorm B", "Library"]
    assert html.index("Dorm B heating is off") < html.index("Library wifi outage")
    wifi_card = card_of(html, wifi["id"])
    assert "Engineers are on it" in wifi_card and "Reported" in wifi_card
    assert '<span class="count">1</span> affected' in wifi_card
    assert "I&#39;m affected too" in wifi_card
    assert "Being fixed" in card_of(html, heater["id"])
    for private in (SECRET, "2nd floor", "desk 12", "No wifi at my desk", "Freezing", "Rita"):
        assert private not in html
    assert 'href="/known-issues"' in html  # in the reporter's menu


async def test_staff_find_the_page_in_their_menu_too(app, cast):
    html = await text(await cast.staff.client.get("/known-issues"))
    assert re.search(r'<a href="/known-issues" aria-current="page">Known issues</a>', html)


async def test_a_building_filter_shows_its_issues_and_a_bad_filter_is_named_not_fatal(app, cast):
    wifi = await library_wifi(cast)
    heater = await publish(cast, "Freezing in 214", "Dorm B, room 214", "Dorm B heating is off")
    html = await text(await cast.other.client.get("/known-issues?location=library"))
    assert f"known-issue-{wifi['id']}" in html and f"known-issue-{heater['id']}" not in html
    assert '<option value="Library" selected>' in html
    response = await cast.other.client.get("/known-issues", query_string={"q": "x" * 201})
    assert response.status_code == 200
    html = await text(response)
    assert "Words: Keep it to 200 characters or fewer." in html
    assert f"known-issue-{wifi['id']}" in html and f"known-issue-{heater['id']}" in html
    nothing = await text(await cast.other.client.get("/known-issues?location=Gym"))
    assert "No known issues match." in nothing and '<li class="known-issue"' not in nothing


async def test_words_find_the_matching_issue(app, cast):
    wifi = await library_wifi(cast)
    heater = await publish(cast, "Freezing in 214", "Dorm B, room 214", "Dorm B heating is off")
    html = await text(await cast.other.client.get("/known-issues?q=wifi"))
    assert f"known-issue-{wifi['id']}" in html and f"known-issue-{heater['id']}" not in html


async def test_an_issue_page_shows_every_update_oldest_first(app, cast):
    wifi = await library_wifi(cast)
    for body in ("Parts ordered", "Technician at 3 pm"):
        response = await cast.staff.client.post(
            f"/api/v1/known-issues/{wifi['id']}/updates", json={"body": body}
        )
        assert response.status_code == 201
    response = await cast.other.client.get(f"/known-issues/{wifi['id']}")
    assert response.status_code == 200
    html = await text(response)
    assert "<h1>Library wifi outage</h1>" in html
    assert html.index("Parts ordered") < html.index("Technician at 3 pm")
    assert SECRET not in html and "desk 12" not in html and "Rita" not in html
    listed = card_of(await text(await cast.other.client.get("/known-issues")), wifi["id"])
    assert "Technician at 3 pm" in listed and "Parts ordered" not in listed


async def test_a_withdrawn_or_missing_issue_is_not_found(app, cast):
    wifi = await library_wifi(cast)
    withdrawn = await cast.staff.client.delete(f"/api/v1/tickets/{wifi['ticket_id']}/known-issue")
    assert withdrawn.status_code == 204
    for path in (f"/known-issues/{wifi['id']}", "/known-issues/987654", f"/known-issues/{2**70}"):
        assert (await cast.other.client.get(path)).status_code == 404, path
    gone = await cast.other.client.post(f"/known-issues/{wifi['id']}/affected", form={})
    assert gone.status_code == 404
    assert '<li class="known-issue"' not in await text(await cast.other.client.get("/known-issues"))


async def test_me_too_and_its_undo_come_back_to_the_page_they_were_sent_from(app, cast):
    wifi = await library_wifi(cast)
    path = f"/known-issues/{wifi['id']}/affected"
    response = await cast.other.client.post(
        path, form={"affected": "yes", "next": "/known-issues?location=Library"}
    )
    assert response.status_code == 302
    anchor = f"#known-issue-{wifi['id']}"
    assert response.headers["Location"] == f"/known-issues?location=Library{anchor}"
    assert await Affected.exists(known_issue_id=wifi["id"], user_id=cast.other.id)
    card = card_of(await text(await cast.other.client.get("/known-issues")), wifi["id"])
    assert '<span class="count">2</span> affected' in card
    assert "Not affected any more" in card and 'name="affected" value="no"' in card
    again = await cast.other.client.post(path, form={"affected": "yes"})  # twice counts once
    assert again.headers["Location"] == f"/known-issues/{wifi['id']}{anchor}"
    assert await Affected.filter(known_issue_id=wifi["id"]).count() == 2
    undone = await cast.other.client.post(path, form={"affected": "no", "next": "/"})
    assert undone.headers["Location"] == f"/{anchor}"
    assert not await Affected.exists(known_issue_id=wifi["id"], user_id=cast.other.id)
    card = card_of(await text(await cast.other.client.get("/known-issues")), wifi["id"])
    assert '<span class="count">1</span> affected' in card and "I&#39;m affected too" in card


async def test_the_me_too_form_never_leaves_the_site_and_refuses_what_it_cannot_read(app, cast):
    wifi = await library_wifi(cast)
    path = f"/known-issues/{wifi['id']}/affected"
    own_page = f"/known-issues/{wifi['id']}#known-issue-{wifi['id']}"
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = await cast.other.client.post(path, form={"affected": "yes", "next": target})
        assert response.headers["Location"] == own_page
    await cast.other.client.post(path, form={"affected": "no"})
    bad = await cast.other.client.post(path, form={"affected": "perhaps"})
    assert bad.status_code == 400
    assert "Say yes or no to being affected" in await text(bad)
    forged = await cast.other.client.post(
        path, form={"affected": "yes"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert not await Affected.exists(known_issue_id=wifi["id"], user_id=cast.other.id)
    signed_out = await cast.anonymous.client.post(path, form={"affected": "yes"})
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/login")


async def test_the_dashboard_shows_the_issues_of_my_buildings_first(app, cast):
    wifi = await library_wifi(cast)
    heater = await publish(cast, "Freezing in 214", "Dorm B, room 214", "Dorm B heating is off")
    student = await make_user("dana")
    client = await signed_in_client(app, student)
    first = await text(await client.get("/"))
    assert first.index(f"known-issue-{heater['id']}") < first.index(f"known-issue-{wifi['id']}")
    await create_ticket(client, title="Printer jam", location="Library, ground floor")
    html = await text(await client.get("/"))
    section = html[html.index('id="known-issues"') :]
    assert section.index(f"known-issue-{wifi['id']}") < section.index(f"known-issue-{heater['id']}")
    assert 'name="next" value="/"' in card_of(html, wifi["id"])
    assert SECRET not in html and "desk 12" not in html


async def test_the_dashboard_says_when_nothing_is_known_to_be_broken(app, cast):
    html = await text(await cast.other.client.get("/"))
    assert "Nothing is known to be broken right now." in html
    assert 'id="no-known-issues" hidden' not in html


async def test_news_of_an_issue_i_follow_reads_in_my_activity_and_links_to_it(app, cast):
    wifi = await library_wifi(cast)
    await cast.other.client.post(f"/api/v1/known-issues/{wifi['id']}/affected")
    response = await cast.staff.client.post(
        f"/api/v1/known-issues/{wifi['id']}/updates", json={"body": "Technician at 3 pm"}
    )
    assert response.status_code == 201
    await app.consumers.round()
    html = await text(await cast.other.client.get("/"))
    feed = html[html.index('id="activity"') :]
    assert re.search(
        rf'<a href="/known-issues/{wifi["id"]}">Library wifi outage: Technician at 3 pm</a>', feed
    )


async def test_a_fixed_issue_says_so(app, cast):
    wifi = await library_wifi(cast)
    for status in ("active", "closed"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{wifi['ticket_id']}/status", json={"status": status}
        )
    card = card_of(await text(await cast.other.client.get("/known-issues")), wifi["id"])
    assert "issue-status-closed" in card and ">Fixed<" in card
