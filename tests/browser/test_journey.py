"""The whole journey in a real browser: report, triage, chat, activate, close, live, no reloads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

TICKET_URL = re.compile(r".*/tickets/(\d+)$")


def ready(page: Page) -> None:
    """Wait until the page's scripts have started (they enhance what the server rendered)."""
    page.locator("html[data-live=ready]").wait_for(state="attached")


def report(page: Page, title: str, *, category: str = "Facilities", location: str = "") -> int:
    page.get_by_role("link", name="Report an issue").first.click()
    ready(page)
    page.get_by_label("What is the problem?").fill(title)
    page.get_by_label("Details").fill("It has been like this since yesterday evening.")
    page.get_by_label(category, exact=True).check()
    if location:
        page.get_by_label("Where?").fill(location)
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(TICKET_URL)
    return int(TICKET_URL.match(page.url).group(1))


def mark_no_reload(page: Page) -> None:
    page.evaluate("window.__stillTheSamePage = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__stillTheSamePage === true"), "the page was reloaded"


def card(page: Page, ticket_id: int, status: str | None = None):
    column = f'ol.cards[data-status="{status}"] ' if status else ""
    return page.locator(f'{column}.card[data-ticket-id="{ticket_id}"]')


@contextmanager
def api_client(live, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200
        yield client


def test_report_triage_chat_activate_close_live(open_session):
    alice = open_session("alice")
    sam = open_session("sam")
    sam.page.goto("/board")
    mark_no_reload(sam.page)

    ticket_id = report(alice.page, "No heating in Dorm B room 214", location="Dorm B, room 214")

    # The new ticket appears on the staff board by itself.
    expect(card(sam.page, ticket_id, "open")).to_be_visible()
    assert_not_reloaded(sam.page)

    # Alice waits on her dashboard; Sam drags the card to Active.
    alice.page.get_by_role("navigation", name="Main").get_by_role("link", name="My tickets").click()
    mark_no_reload(alice.page)
    card(sam.page, ticket_id).drag_to(sam.page.locator('.column[data-status="active"]'))
    expect(card(sam.page, ticket_id, "active")).to_be_visible()
    toast = alice.page.locator(".toast")
    expect(toast).to_contain_text("is now active")
    expect(alice.page.locator(f'[data-ticket-id="{ticket_id}"] .status')).to_have_text("active")
    toast.get_by_role("button", name="Dismiss notification").click()
    expect(toast).to_have_count(0)
    assert_not_reloaded(alice.page)

    # Both open the ticket and talk.
    alice.page.goto(f"/tickets/{ticket_id}")
    sam.page.goto(f"/tickets/{ticket_id}")
    mark_no_reload(alice.page)
    mark_no_reload(sam.page)
    expect(alice.page.locator("#viewers")).to_contain_text("Sam")
    sam.page.get_by_label("Reply to Alice").fill("A technician is on the way with a new valve.")
    expect(alice.page.locator("#typing")).to_contain_text("Sam is typing")
    sam.page.get_by_role("button", name="Send").click()
    expect(alice.page.locator(".message").filter(has_text="new valve")).to_have_count(1)
    alice.page.get_by_label("Message the helpdesk").fill("Thank you! I am in until 17:00.")
    alice.page.get_by_role("button", name="Send").click()
    expect(sam.page.locator(".message").filter(has_text="until 17:00")).to_have_count(1)
    expect(sam.page.locator("#seen")).to_contain_text("Seen by Alice")

    # An internal note looks different and never reaches Alice.
    sam.page.get_by_label("Internal note").check()
    sam.page.get_by_label("Reply to Alice").fill("Valve part number 7731-B, stock room 2.")
    sam.page.get_by_role("button", name="Send").click()
    expect(sam.page.locator(".message.internal")).to_contain_text("7731-B")

    # Sam closes it; Alice's page follows and offers to reopen.
    sam.page.get_by_role("button", name="Close ticket").click()
    expect(alice.page.locator("#ticket-status")).to_have_text("closed")
    expect(alice.page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(alice.page.locator("#reply-form")).to_be_hidden()
    expect(alice.page.locator("#history")).to_contain_text("active → closed")
    assert "7731-B" not in alice.page.content()
    assert_not_reloaded(alice.page)
    assert_not_reloaded(sam.page)


def test_reconnect_replays_what_was_missed_and_sends_what_was_written(open_session, live):
    ben = open_session("ben")
    priya = open_session("priya")
    ticket_id = report(ben.page, "Printer offline in the library", category="IT")
    priya.page.goto(f"/tickets/{ticket_id}")
    expect(ben.page.locator("#viewers")).to_contain_text("Priya")
    mark_no_reload(ben.page)

    ben.switch.drop()
    expect(ben.page.locator("#live-status")).to_contain_text("Reconnecting")
    priya.page.get_by_label("Reply to Ben").fill("Sent while you were away")
    priya.page.get_by_role("button", name="Send").click()
    ben.page.get_by_label("Message the helpdesk").fill("Written while offline")
    ben.page.get_by_role("button", name="Send").click()
    expect(ben.page.locator(".message.pending")).to_contain_text("Written while offline")

    ben.switch.restore(ben.page)
    expect(ben.page.locator(".message").filter(has_text="Sent while you were away")).to_have_count(
        1
    )
    expect(priya.page.locator(".message").filter(has_text="Written while offline")).to_have_count(1)
    expect(ben.page.locator(".message.pending")).to_have_count(0)
    expect(ben.page.locator("#live-status")).to_be_hidden()
    assert_not_reloaded(ben.page)
    with api_client(live, "priya") as client:
        bodies = [
            m["body"] for m in client.get(f"/api/v1/tickets/{ticket_id}/messages").json()["items"]
        ]
    assert bodies.count("Written while offline") == 1


def test_an_event_overtaken_by_a_later_one_is_still_replayed_after_a_reconnect(open_session):
    """With several workers, each sends its own events, so a later event can reach a tab just
    before an earlier one. If the connection drops in that instant, the rejoin must still
    bring the earlier one, and show nothing twice."""
    ben = open_session("ben", intercept=True)
    priya = open_session("priya")
    ticket_id = report(ben.page, "Heater broken in room 12", category="Facilities")
    priya.page.goto(f"/tickets/{ticket_id}")

    def reply(body: str) -> None:
        priya.page.get_by_label("Reply to Ben").fill(body)
        priya.page.get_by_role("button", name="Send").click()
        expect(priya.page.locator(".message").filter(has_text=body)).to_have_count(1)

    reply("Said before this page")
    ben.page.reload()  # on the page as rendered: never seen over this tab's socket
    expect(ben.page.locator("#viewers")).to_contain_text("Priya")
    mark_no_reload(ben.page)

    ben.switch.hold_back = lambda frame: "Overtaken on its way" in frame
    reply("Overtaken on its way")
    reply("Arrived first")
    messages = ben.page.locator(".message")
    expect(messages.filter(has_text="Arrived first")).to_have_count(1)
    expect(messages.filter(has_text="Overtaken on its way")).to_have_count(0)

    ben.switch.drop()
    ben.switch.hold_back = None
    expect(ben.page.locator("#live-status")).to_contain_text("Reconnecting")
    ben.switch.restore(ben.page)
    expect(messages.filter(has_text="Overtaken on its way")).to_have_count(1)
    expect(ben.page.locator("#live-status")).to_be_hidden()
    expect(messages.filter(has_text="Arrived first")).to_have_count(1)
    expect(messages.filter(has_text="Said before this page")).to_have_count(1)
    assert_not_reloaded(ben.page)


def test_a_stale_board_move_shows_the_conflict_and_the_current_state(open_session, live):
    carla = open_session("carla")
    sam = open_session("sam")
    ticket_id = report(carla.page, "Vending machine ate my coins", category="Services")
    sam.page.goto("/board")
    stale = card(sam.page, ticket_id, "open")
    expect(stale).to_be_visible()

    sam.switch.drop()  # the board misses what happens next
    sam.watch.expect_status(409)
    with api_client(live, "priya") as priya:
        response = priya.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": "active"})
        assert response.status_code == 200

    stale.focus()
    sam.page.keyboard.press("ArrowRight")  # open -> active, from version 1
    conflict = card(sam.page, ticket_id, "active")
    expect(conflict).to_have_class(re.compile(r"\bconflict\b"))
    expect(conflict.locator(".card-assignee")).to_have_text("Priya")
    expect(sam.page.locator(".toast.error")).to_contain_text("changed meanwhile")
    sam.switch.restore(sam.page)


def test_a_long_column_shows_the_rest_on_demand(open_session, live):
    word = "zebracrossing"
    with api_client(live, "priya") as priya:  # staff logging calls: no hourly report limit
        ids = []
        for n in range(53):
            body = {"title": f"Streetlight {n} out ({word})", "description": "Dark path."}
            response = priya.post("/api/v1/tickets", json={**body, "category": "facilities"})
            assert response.status_code == 201
            ids.append(response.json()["id"])
    sam = open_session("sam")
    sam.page.goto(f"/board?q={word}")
    ready(sam.page)
    column = sam.page.locator('section.column[data-status="open"]')
    expect(column.locator(".card")).to_have_count(50)
    expect(column.locator("[data-count]")).to_have_text("53")

    column.get_by_role("button", name="Show more").focus()
    sam.page.keyboard.press("Enter")
    expect(column.locator(".card")).to_have_count(53)
    expect(column.locator("[data-count]")).to_have_text("53")
    expect(column.get_by_role("button", name="Show more")).to_have_count(0)
    shown = column.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.ticketId)")
    assert [int(ticket_id) for ticket_id in shown] == ids[::-1]  # newest first, none twice
    expect(card(sam.page, ids[2], "open")).to_be_focused()  # the first of the new ones


def test_what_happens_while_the_dashboard_connects_is_not_lost(open_session, live):
    with api_client(live, "dmitri") as dmitri_api:
        body = {"title": "Flickering light", "description": "Stairwell C", "category": "facilities"}
        ticket_id = dmitri_api.post("/api/v1/tickets", json=body).json()["id"]
    dmitri = open_session("dmitri")  # a fresh tab: nothing remembered from an earlier page
    dmitri.switch.drop()
    dmitri.page.reload()  # rendered, but its socket is not through yet
    ready(dmitri.page)
    with api_client(live, "priya") as priya:
        moved = priya.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": "active"})
        assert moved.status_code == 200
    dmitri.switch.restore(dmitri.page)
    expect(dmitri.page.locator(f'[data-ticket-id="{ticket_id}"] .status')).to_have_text("active")
    expect(dmitri.page.locator(".toast")).to_contain_text("is now active")


def test_phone_width_report_and_chat(open_session):
    dmitri = open_session("dmitri", phone=True)
    ticket_id = report(
        dmitri.page, "Wifi drops in Dorm C study room", category="IT", location="Dorm C, study room"
    )
    assert dmitri.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    dmitri.page.get_by_label("Message the helpdesk").fill("It drops every ten minutes.")
    dmitri.page.get_by_role("button", name="Send").click()
    expect(dmitri.page.locator(".message.mine")).to_contain_text("every ten minutes")
    dmitri.page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My tickets"
    ).click()
    expect(dmitri.page.locator(f'[data-ticket-id="{ticket_id}"]')).to_be_visible()
    assert dmitri.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_keyboard_only(open_session, browser, live):
    context = browser.new_context(base_url=live.url)
    page = context.new_page()
    try:
        page.goto("/login")
        page.keyboard.press("Tab")  # the skip link comes first
        expect(page.locator(".skip-link")).to_be_focused()
        page.get_by_label("Username").focus()
        page.keyboard.type("alice")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        page.get_by_role("link", name="Report an issue").first.focus()
        page.keyboard.press("Enter")
        page.get_by_label("What is the problem?").focus()
        page.keyboard.type("Lift stuck on floor 3")
        page.keyboard.press("Tab")
        page.keyboard.type("The lift in the Science Hall does not move.")
        page.keyboard.press("Tab")  # the first category; arrows pick within the group
        page.keyboard.press("Space")
        page.get_by_role("button", name="Send report").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(TICKET_URL)
        page.get_by_label("Message the helpdesk").focus()
        page.keyboard.type("Sent with Ctrl+Enter")
        page.keyboard.press("Control+Enter")
        expect(page.locator(".message.mine")).to_contain_text("Sent with Ctrl+Enter")
    finally:
        context.close()
    sam = open_session("sam")
    sam.page.goto("/board")
    first = sam.page.locator('ol.cards[data-status="open"] .card').first
    ticket_id = first.get_attribute("data-ticket-id")
    first.focus()
    sam.page.keyboard.press("ArrowRight")
    expect(card(sam.page, int(ticket_id), "active")).to_be_focused()
    expect(sam.page.locator("#announcer")).to_contain_text(f"Moved #{ticket_id} to Active")


def test_report_form_shows_the_apis_errors_inline(open_session):
    alice = open_session("alice")
    alice.watch.expect_status(400)
    alice.page.get_by_role("link", name="Report an issue").first.click()
    ready(alice.page)
    alice.page.get_by_role("button", name="Send report").click()
    expect(alice.page.locator("#category-error")).to_have_text("Choose a category.")
    alice.page.get_by_label("What is the problem?").fill("   ")
    alice.page.get_by_label("Details").fill("Something")
    alice.page.get_by_label("IT", exact=True).check()
    alice.page.get_by_role("button", name="Send report").click()
    error = alice.page.locator("#title-error")
    expect(error).to_be_visible()
    expect(alice.page.get_by_label("What is the problem?")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert "/tickets/new" in alice.page.url


def test_every_control_is_labelled_and_focus_is_visible(open_session):
    sam = open_session("sam")
    for path in ("/board", "/tickets/new", "/account/password"):
        sam.page.goto(path)
        unlabelled = sam.page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button')].filter(control =>
              !(control.labels && control.labels.length) && !control.getAttribute('aria-label')
              && !control.textContent.trim()).map(control => control.outerHTML)""")
        assert unlabelled == [], (path, unlabelled)
    sam.page.goto("/board")
    sam.page.locator(".card").first.focus()
    outline = sam.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_toasts_are_not_repeated_after_a_reconnect_or_a_new_page(open_session, live):
    alice = open_session("alice")
    with api_client(live, "alice") as client:
        ticket = client.post(
            "/api/v1/tickets",
            json={
                "title": "Door lock jammed",
                "description": "Room 104",
                "category": "facilities",
            },
        ).json()
    with api_client(live, "sam") as staff:  # before the page: it is on the page, not a toast
        staff.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Checking now"})
    alice.page.goto("/")
    ready(alice.page)
    with api_client(live, "sam") as staff:
        staff.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active"})
    expect(alice.page.locator(".toast")).to_have_count(1)
    alice.switch.drop()
    alice.switch.restore(alice.page)
    alice.page.wait_for_timeout(1500)
    expect(alice.page.locator(".toast")).to_have_count(1)
    alice.page.reload()
    ready(alice.page)
    alice.page.wait_for_timeout(1500)
    expect(alice.page.locator(".toast")).to_have_count(0)


XSS = '<img src="/xss-probe" onerror="window.__xss = 1"><script>window.__xss = 2</script>'
NAME_XSS = "Eve <img src=/x onerror=window.__xss=3>"  # display names hold 80 characters


def test_markup_in_user_text_never_runs(open_session, live):
    """Every user-written field, on every page, toast and live insertion: shown, never run."""
    with httpx.Client(base_url=live.url) as client:
        response = client.post(
            "/api/v1/auth/register",
            json={
                "username": "eve",
                "password": PASSWORD,
                "display_name": NAME_XSS,
            },
        )
        assert response.status_code == 201, response.text
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    eve = open_session("eve")
    with api_client(live, "eve") as api:
        ticket = api.post(
            "/api/v1/tickets",
            json={
                "title": f"Title {XSS}",
                "description": f"Description {XSS}",
                "category": "it",
                "location": f"Location {XSS}",
            },
        ).json()
        api.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": f"Message {XSS}"})
    expect(card(sam.page, ticket["id"])).to_contain_text("<img")  # a live card, as text
    for path in ("/analytics", "/analytics/report", f"/tickets/{ticket['id']}"):
        sam.page.goto(path)
        ready(sam.page)
        expect(sam.page.locator("main")).to_contain_text("<img")
    eve.page.goto(f"/tickets/{ticket['id']}")
    ready(eve.page)
    expect(sam.page.locator("#viewers")).to_contain_text("<img")  # her name, live
    eve.page.get_by_label("Message the helpdesk").fill("typing")
    expect(sam.page.locator("#typing")).to_contain_text("<img")
    eve.page.goto("/")
    ready(eve.page)
    sam.page.get_by_label("Reply to Eve").fill(f"Reply {XSS}")
    sam.page.get_by_role("button", name="Send").click()
    expect(eve.page.locator(".toast")).to_contain_text("<img")
    expect(eve.page.locator("#activity")).to_contain_text("Reply <img")
    for page in (sam.page, eve.page):
        assert page.evaluate("window.__xss === undefined")


CONTRAST = (Path(__file__).parent / "contrast.js").read_text()


def test_text_contrast_meets_wcag_aa(open_session, live):
    with api_client(live, "ben") as ben:
        ticket = ben.post(
            "/api/v1/tickets",
            json={
                "title": "Leaking tap",
                "description": "Kitchen",
                "category": "facilities",
                "priority": "urgent",
            },
        ).json()
    with api_client(live, "priya") as priya:
        path = f"/api/v1/tickets/{ticket['id']}/messages"
        priya.post(path, json={"body": "On it"})
        priya.post(path, json={"body": "Plumber booked", "internal": True})
    staff = open_session("priya")
    reporter = open_session("ben")
    for session, path in [
        (staff, "/board"),
        (staff, f"/tickets/{ticket['id']}"),
        (staff, "/tickets/new"),
        (reporter, "/"),
        (reporter, f"/tickets/{ticket['id']}"),
        (reporter, "/account/password"),
    ]:
        session.page.goto(path)
        ready(session.page)
        assert session.page.evaluate(CONTRAST) == [], path
    reporter.page.get_by_role("button", name="Sign out").click()
    assert reporter.page.evaluate(CONTRAST) == [], "/login"


def test_analytics_page_shows_charts_and_follows_changes(open_session, live):
    priya = open_session("priya")
    priya.page.goto("/analytics")
    ready(priya.page)
    charts = priya.page.locator("img[data-chart]")
    expect(charts).to_have_count(6)
    for index in range(6):
        expect(charts.nth(index)).to_have_js_property("complete", True)
        assert charts.nth(index).evaluate("image => image.naturalWidth") > 0
    open_count = priya.page.locator('.stat [data-stat="by_status.open"]')
    before = int(open_count.text_content())
    mark_no_reload(priya.page)
    with api_client(live, "dmitri") as dmitri:
        for _ in range(3):
            dmitri.post(
                "/api/v1/tickets",
                json={
                    "title": "Projector broken",
                    "description": "Room S1",
                    "category": "it",
                    "location": "Science Hall, S1",
                },
            )
    expect(open_count).to_have_text(str(before + 3))
    expect(priya.page.locator('[data-table="locations"]')).to_contain_text("Science Hall")
    assert_not_reloaded(priya.page)
