"""Known issues in a real browser: a student's report is published, a second student is offered
it while reporting the same thing, follows it from the keyboard and hears live that it is fixed;
the known issues page takes new issues, counts and news without reloading."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journey import (
    CONTRAST,
    api_client,
    assert_not_reloaded,
    mark_no_reload,
    ready,
    report,
)


def test_a_student_follows_a_known_issue_while_reporting_and_hears_when_it_is_fixed(
    open_session, live
):
    alice = open_session("alice")
    ticket_id = report(
        alice.page, "No wifi at the library desks", category="IT", location="Library, 2nd floor"
    )
    with api_client(live, "sam") as staff:
        published = staff.post(
            f"/api/v1/tickets/{ticket_id}/known-issue",
            json={"public_title": "Library wifi outage", "public_note": "Engineers are on it"},
        )
        assert published.status_code == 201, published.text
        issue_id = published.json()["id"]

        ben = open_session("ben")
        page = ben.page
        page.goto("/tickets/new")
        ready(page)
        mark_no_reload(page)
        expect(page.get_by_role("link", name="See known issues")).to_have_attribute(
            "href", "/known-issues"
        )
        title = page.get_by_label("What is the problem?")
        title.press_sequentially("wifi keeps dropping")
        page.get_by_label("Where?").press_sequentially("Library, ground floor")
        suggestions = page.locator("#known-issue-suggestions")
        expect(suggestions.get_by_role("link", name="Library wifi outage")).to_be_visible()
        expect(page.locator("#suggestions-status")).to_have_text("1 known issue matches")
        assert page.evaluate(CONTRAST) == []

        # From the keyboard: the suggestion comes right after the title.
        title.focus()
        page.keyboard.press("Tab")
        expect(suggestions.get_by_role("link", name="Library wifi outage")).to_be_focused()
        page.keyboard.press("Tab")
        follow = suggestions.get_by_role("button", name="I'm affected too")
        expect(follow).to_be_focused()
        page.keyboard.press("Enter")
        followed = suggestions.locator(".followed")
        expect(followed).to_contain_text("You will hear when it is fixed — no need to report it")
        expect(followed).to_be_focused()
        expect(suggestions.locator(".known-issue-meta")).to_contain_text("2 affected")
        expect(followed.get_by_role("link", name="See the known issue")).to_have_attribute(
            "href", f"/known-issues/{issue_id}"
        )
        expect(page.locator("#suggestions-status")).to_have_text(
            "You will hear when it is fixed — no need to report it."
        )
        # Filing anyway stays possible: the form is as it was.
        expect(title).to_have_value("wifi keeps dropping")
        expect(page.get_by_role("button", name="Send report")).to_be_enabled()
        mine = staff.get(f"/api/v1/known-issues/{issue_id}").json()
        assert mine["affected_count"] == 2

        for status in ("active", "closed"):
            moved = staff.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": status})
            assert moved.status_code == 200, moved.text
    fixed = page.locator(".toast", has_text="Library wifi outage: fixed")
    expect(fixed).to_be_visible()
    expect(fixed.get_by_role("link")).to_have_attribute("href", f"/known-issues/{issue_id}")
    assert_not_reloaded(page)


def test_the_known_issues_page_takes_new_issues_counts_and_news_live(open_session, live):
    carla = open_session("carla")
    page = carla.page
    page.goto("/known-issues")
    ready(page)
    mark_no_reload(page)
    with api_client(live, "dmitri") as dmitri, api_client(live, "priya") as staff:
        ticket = dmitri.post(
            "/api/v1/tickets",
            json={
                "title": "Radiator cold",
                "description": "Dmitri's room has been freezing since Monday",
                "category": "facilities",
                "location": "Dorm C, room 12",
            },
        ).json()
        issue = staff.post(
            f"/api/v1/tickets/{ticket['id']}/known-issue",
            json={"public_title": "Dorm C heating is off"},
        ).json()
        group = page.locator('.building-group[data-building="Dorm C"]')
        card = group.locator(f'.known-issue[data-known-issue-id="{issue["id"]}"]')
        expect(card.get_by_role("link", name="Dorm C heating is off")).to_be_visible()
        expect(group.get_by_role("heading", name="Dorm C", exact=True)).to_be_visible()
        expect(card).to_contain_text("Reported")
        expect(card.locator(".count")).to_have_text("1")
        expect(page.locator("main")).not_to_contain_text("freezing since Monday")

        with api_client(live, "ben") as ben:
            assert ben.post(f"/api/v1/known-issues/{issue['id']}/affected").status_code == 201
        expect(card.locator(".count")).to_have_text("2")

        card.get_by_role("button", name="I'm affected too").click()
        expect(card.get_by_role("button", name="Not affected any more")).to_be_visible()
        expect(card.locator(".count")).to_have_text("3")
        expect(card.locator(".affected-note")).to_be_visible()

        posted = staff.post(
            f"/api/v1/known-issues/{issue['id']}/updates",
            json={"body": "A plumber comes at 3 pm"},
        )
        assert posted.status_code == 201
        expect(card.locator(".known-issue-update")).to_contain_text("A plumber comes at 3 pm")
        assert page.evaluate(CONTRAST) == []
        news = page.locator(".toast", has_text="Dorm C heating is off: A plumber comes at 3 pm")
        expect(news).to_be_visible()

        card.get_by_role("button", name="Not affected any more").click()
        expect(card.get_by_role("button", name="I'm affected too")).to_be_visible()
        expect(card.locator(".count")).to_have_text("2")

        assert staff.delete(f"/api/v1/tickets/{ticket['id']}/known-issue").status_code == 204
        expect(card).to_have_count(0)
        expect(group).to_have_count(0)
    assert_not_reloaded(page)


def test_the_dashboard_and_an_issue_page_stay_current(open_session, live):
    carla = open_session("carla")
    page = carla.page
    page.goto("/")
    ready(page)
    with api_client(live, "dmitri") as dmitri, api_client(live, "priya") as staff:
        ticket = dmitri.post(
            "/api/v1/tickets",
            json={
                "title": "Showers cold",
                "description": "No hot water after 8 am",
                "category": "facilities",
                "location": "Sports hall",
            },
        ).json()
        issue = staff.post(
            f"/api/v1/tickets/{ticket['id']}/known-issue",
            json={"public_title": "No hot water in the sports hall"},
        ).json()
        section = page.locator("#known-issues")
        expect(section.get_by_role("link", name="No hot water in the sports hall")).to_be_visible()
        expect(section.locator("#no-known-issues")).to_be_hidden()

        section.get_by_role("link", name="No hot water in the sports hall").click()
        page.wait_for_url(f"**/known-issues/{issue['id']}")
        ready(page)
        mark_no_reload(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("No hot water in the sports hall")
        for body in ("The boiler is being checked", "Hot water is back at noon"):
            assert (
                staff.post(
                    f"/api/v1/known-issues/{issue['id']}/updates", json={"body": body}
                ).status_code
                == 201
            )
        updates = page.locator("#known-issue-updates li")
        expect(updates).to_have_count(2)
        expect(updates.nth(0)).to_contain_text("The boiler is being checked")
        expect(updates.nth(1)).to_contain_text("Hot water is back at noon")
        assert staff.delete(f"/api/v1/tickets/{ticket['id']}/known-issue").status_code == 204
        expect(page.locator("#withdrawn-notice")).to_be_visible()
    assert_not_reloaded(page)
