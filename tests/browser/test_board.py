"""The staff board as staff use it: closing asks first, counts, sort and filters in reach."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journey import TICKET_URL, api_client, card, ready

CATEGORIES = ("facilities", "it", "services")


def file_ticket(live, title: str, **fields) -> int:
    """A ticket logged by staff (no hourly report limit), moved to `status` if given."""
    status = fields.pop("status", None)
    body = {"title": title, "description": "Seen this morning.", "category": "facilities"}
    with api_client(live, "priya") as priya:
        response = priya.post("/api/v1/tickets", json={**body, **fields})
        assert response.status_code == 201, response.text
        ticket_id = response.json()["id"]
        for step in {"active": ["active"], "closed": ["active", "closed"]}.get(status, []):
            moved = priya.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": step})
            assert moved.status_code == 200, moved.text
    return ticket_id


def ticket_of(live, ticket_id: int) -> dict:
    with api_client(live, "priya") as priya:
        return priya.get(f"/api/v1/tickets/{ticket_id}").json()


def history_of(live, ticket_id: int) -> list[dict]:
    with api_client(live, "priya") as priya:
        return priya.get(f"/api/v1/tickets/{ticket_id}/history").json()["items"]


def test_the_arrow_key_asks_before_closing_and_escape_keeps_the_ticket(open_session, live):
    ticket_id = file_ticket(live, "Broken window in the gym", status="active")
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    active = card(sam.page, ticket_id, "active")
    active.focus()
    sam.page.keyboard.press("ArrowRight")

    dialog = sam.page.get_by_role("dialog", name=f"Close #{ticket_id}")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Note")).to_be_focused()
    sam.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(active).to_be_focused()
    assert ticket_of(live, ticket_id)["status"] == "active"

    sam.page.keyboard.press("ArrowRight")
    dialog.get_by_label("Note").fill("Glazier replaced the pane.")
    dialog.get_by_role("button", name="Close ticket").click()
    expect(card(sam.page, ticket_id, "closed")).to_be_focused()
    assert ticket_of(live, ticket_id)["status"] == "closed"
    assert history_of(live, ticket_id)[-1]["note"] == "Glazier replaced the pane."


def test_a_drag_into_closed_asks_first_too(open_session, live):
    ticket_id = file_ticket(live, "Flooded basement corridor", status="active")
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    closed_column = sam.page.locator('.column[data-status="closed"]')

    card(sam.page, ticket_id, "active").drag_to(closed_column)
    dialog = sam.page.get_by_role("dialog", name=f"Close #{ticket_id}")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card(sam.page, ticket_id, "active")).to_be_focused()
    assert ticket_of(live, ticket_id)["status"] == "active"

    card(sam.page, ticket_id, "active").drag_to(closed_column)
    dialog.get_by_role("button", name="Close ticket").click()
    expect(card(sam.page, ticket_id, "closed")).to_be_visible()
    assert ticket_of(live, ticket_id)["status"] == "closed"
    assert history_of(live, ticket_id)[-1]["note"] is None


def column_ids(page, status: str) -> list[int]:
    cards = page.locator(f'ol.cards[data-status="{status}"] .card')
    return [int(i) for i in cards.evaluate_all("cards => cards.map(c => c.dataset.ticketId)")]


def api_ids(live, query: str) -> list[int]:
    with api_client(live, "priya") as priya:
        return [t["id"] for t in priya.get(f"/api/v1/tickets?{query}").json()["items"]]


def test_a_long_column_counts_every_ticket_and_keeps_the_filters_in_reach(open_session, live):
    word = "lamppost"
    for n in range(52):
        file_ticket(live, f"Lamp {n} flickers ({word})")
    sam = open_session("sam")
    sam.page.goto(f"/board?q={word}")
    ready(sam.page)
    open_column = sam.page.locator('section.column[data-status="open"]')
    expect(open_column.locator(".card")).to_have_count(50)
    expect(open_column.locator("[data-count]")).to_have_text("52")

    file_ticket(live, f"Lamp 52 flickers ({word})")  # arrives live
    expect(open_column.locator("[data-count]")).to_have_text("53")
    with api_client(live, "priya") as priya:
        counted = priya.get("/api/v1/tickets/count", params={"status": "open", "q": word}).json()
    assert counted["count"] == 53

    sam.page.locator(".card").last.scroll_into_view_if_needed()
    assert sam.page.evaluate("window.scrollY") > 0
    expect(sam.page.get_by_label("Search")).to_be_in_viewport()
    expect(sam.page.get_by_role("button", name="Filter")).to_be_in_viewport()


def test_the_live_board_keeps_its_sort_as_cards_change(open_session, live):
    word = "sortcheck"
    for priority in ("low", "high", "normal"):
        file_ticket(live, f"Bench {priority} ({word})", priority=priority)
    sam = open_session("sam")
    sam.page.goto(f"/board?q={word}&sort=priority")
    ready(sam.page)
    assert column_ids(sam.page, "open") == api_ids(live, f"status=open&q={word}&sort=priority")

    urgent = file_ticket(live, f"Bench urgent ({word})", priority="urgent")
    expect(card(sam.page, urgent, "open")).to_be_visible()
    assert column_ids(sam.page, "open")[0] == urgent
    lowest = column_ids(sam.page, "open")[-1]
    with api_client(live, "priya") as priya:
        raised = priya.patch(f"/api/v1/tickets/{lowest}", json={"priority": "high"})
        assert raised.status_code == 200
    expected = api_ids(live, f"status=open&q={word}&sort=priority")
    expect(sam.page.locator('ol.cards[data-status="open"] .card').nth(1)).to_have_attribute(
        "data-ticket-id", str(expected[1])
    )
    assert column_ids(sam.page, "open") == expected


def test_a_search_that_finds_nothing_offers_to_clear_the_filters(open_session, live):
    sam = open_session("sam")
    sam.page.goto("/board?q=nothing-is-called-this&sort=waiting")
    ready(sam.page)
    expect(sam.page.get_by_role("status").filter(has_text="No tickets match")).to_be_visible()
    sam.page.get_by_role("link", name="Clear filters").click()
    sam.page.wait_for_url("**/board?sort=waiting")
    expect(sam.page.get_by_label("Search")).to_have_value("")
    expect(sam.page.get_by_label("Sort")).to_have_value("waiting")
    expect(sam.page.get_by_text("No tickets match")).to_have_count(0)


def test_the_report_form_shows_every_problem_at_once_in_plain_words(open_session):
    alice = open_session("alice")
    alice.page.get_by_role("link", name="Report an issue").first.click()
    ready(alice.page)
    alice.page.get_by_label("Where?").fill("Library")
    alice.page.get_by_role("button", name="Send report").click()

    expect(alice.page.locator("#title-error")).to_have_text("Please fill this in.")
    expect(alice.page.locator("#description-error")).to_have_text("Please fill this in.")
    expect(alice.page.locator("#category-error")).to_have_text("Choose a category.")
    expect(alice.page.locator(".field-error")).to_have_count(3)
    expect(alice.page.get_by_label("What is the problem?")).to_be_focused()

    alice.page.get_by_label("What is the problem?").fill("Heater off")
    alice.page.get_by_role("button", name="Send report").click()
    expect(alice.page.locator(".field-error")).to_have_count(2)
    expect(alice.page.locator("#title-error")).to_have_count(0)


def test_assign_to_me_from_a_card_and_the_ticket_page_shows_live_on_both(open_session, live):
    ticket_id = file_ticket(live, "Projector dead in lecture hall 3")
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    priya = open_session("priya")
    priya.page.goto(f"/tickets/{ticket_id}")
    ready(priya.page)

    sam_card = card(sam.page, ticket_id, "open")
    sam_card.get_by_role("button", name="Assign to me").click()
    expect(sam_card.locator(".card-assignee")).to_have_text("Sam")
    expect(sam_card.get_by_role("button", name="Assign to me")).to_have_count(0)
    expect(sam_card).to_be_focused()
    expect(priya.page.locator("#ticket-assignee")).to_have_text("assigned to Sam")
    assert ticket_of(live, ticket_id)["assignee"]["username"] == "sam"

    priya.page.get_by_role("button", name="Assign to me").click()
    expect(priya.page.locator("#ticket-assignee")).to_have_text("assigned to Priya")
    expect(priya.page.get_by_role("button", name="Assign to me")).to_be_hidden()
    expect(priya.page.get_by_label("Assign to", exact=True)).to_be_focused()
    expect(sam_card.locator(".card-assignee")).to_have_text("Priya")
    expect(sam_card.get_by_role("button", name="Assign to me")).to_be_visible()
    assert ticket_of(live, ticket_id)["assignee"]["username"] == "priya"


def test_assign_to_me_on_a_stale_card_shows_who_took_it_meanwhile(open_session, live):
    ticket_id = file_ticket(live, "Lift stuck on floor 4")
    sam = open_session("sam", intercept=True)
    sam.watch.expect_status(409)
    sam.page.goto("/board")
    ready(sam.page)
    sam.switch.hold_back = lambda frame: '"ticket.assigned"' in frame  # the news is late
    with api_client(live, "priya") as priya:
        priya_id = priya.get("/api/v1/me").json()["id"]
        taken = priya.post(f"/api/v1/tickets/{ticket_id}/assign", json={"assignee_id": priya_id})
        assert taken.status_code == 200

    stale = card(sam.page, ticket_id, "open")
    expect(stale.locator(".card-assignee")).to_have_text("Unassigned")
    stale.get_by_role("button", name="Assign to me").click()
    expect(sam.page.locator(".toast")).to_contain_text(
        f"#{ticket_id} changed meanwhile: it is now open with Priya. Your assignment was not made."
    )
    expect(stale.locator(".card-assignee")).to_have_text("Priya")
    assert ticket_of(live, ticket_id)["assignee"]["username"] == "priya"


def test_staff_report_a_call_for_a_student_found_by_name(open_session, live):
    priya = open_session("priya")
    priya.page.goto("/tickets/new")
    ready(priya.page)
    reporting_for = priya.page.get_by_label("Reporting for")
    reporting_for.fill("nobody-has-this")
    priya.page.get_by_label("What is the problem?").fill("Broken locker in the sports hall")
    priya.page.get_by_label("Details").fill("Phoned in: the door hangs off.")
    priya.page.get_by_label("Facilities", exact=True).check()
    priya.page.get_by_role("button", name="Send report").click()
    expect(priya.page.locator("#reporter-error")).to_have_text(
        "No reporter account has that username."
    )
    expect(reporting_for).to_be_focused()

    reporting_for.fill("Dmit")  # part of the name: the account is suggested
    expect(priya.page.locator('#reporter-options option[value="dmitri"]')).to_have_count(1)
    reporting_for.fill("dmitri")
    priya.page.get_by_role("button", name="Send report").click()
    priya.page.wait_for_url(TICKET_URL)
    ticket_id = int(TICKET_URL.match(priya.page.url).group(1))
    assert ticket_of(live, ticket_id)["reporter"]["username"] == "dmitri"
    with api_client(live, "dmitri") as dmitri:
        assert ticket_id in [t["id"] for t in dmitri.get("/api/v1/tickets").json()["items"]]

    alice = open_session("alice")
    alice.page.goto("/tickets/new")
    ready(alice.page)
    expect(alice.page.get_by_label("Reporting for")).to_have_count(0)


def test_a_live_card_and_a_rendered_card_show_the_same_category_label(open_session, live):
    rendered = {c: file_ticket(live, f"Rendered {c}", category=c) for c in CATEGORIES}
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    arrived = {c: file_ticket(live, f"Live {c}", category=c) for c in CATEGORIES}

    def label(ticket_id: int) -> str:
        return card(sam.page, ticket_id, "open").locator(".card-category").inner_text()

    for category in CATEGORIES:
        expect(card(sam.page, arrived[category], "open")).to_be_visible()
        assert label(arrived[category]) == label(rendered[category])
    assert [label(rendered[c]) for c in CATEGORIES] == ["Facilities", "IT", "Services"]


def test_live_activity_lines_read_as_the_server_renders_them(open_session, live):
    with api_client(live, "dmitri") as dmitri:
        body = {"title": "Shower cold {title}", "description": "Block A.", "category": "facilities"}
        ticket_id = dmitri.post("/api/v1/tickets", json=body).json()["id"]
    dmitri = open_session("dmitri")
    dmitri.page.goto("/")
    ready(dmitri.page)
    with api_client(live, "priya") as priya:
        priya_id = priya.get("/api/v1/me").json()["id"]
        for step in (
            ("POST", f"/api/v1/tickets/{ticket_id}/status", {"status": "active"}),
            ("POST", f"/api/v1/tickets/{ticket_id}/assign", {"assignee_id": priya_id}),
            ("POST", f"/api/v1/tickets/{ticket_id}/assign", {"assignee_id": None}),
            ("PATCH", f"/api/v1/tickets/{ticket_id}", {"location": "Block A"}),
            (
                "POST",
                f"/api/v1/tickets/{ticket_id}/messages",
                {"body": "On it {body} " + "x" * 200},
            ),
        ):
            assert priya.request(*step[:2], json=step[2]).is_success
    items = dmitri.page.locator("#activity li[data-event-id]")
    expect(items.first).to_contain_text("Priya: On it")
    live_lines = dict(
        zip(
            items.evaluate_all("l => l.map(i => i.dataset.eventId)"),
            items.locator("a").all_inner_texts(),
            strict=True,
        )
    )

    dmitri.page.reload()
    ready(dmitri.page)
    rendered = dict(
        zip(
            items.evaluate_all("l => l.map(i => i.dataset.eventId)"),
            items.locator("a").all_inner_texts(),
            strict=True,
        )
    )
    assert rendered == live_lines
    kinds = (
        "New ticket:",
        "is now active",
        "assigned to nobody",
        "Details edited:",
        "Priya: On it",
    )
    assert all(any(kind in line for line in rendered.values()) for kind in kinds)
    assert "Shower cold {title} assigned to nobody" in rendered.values()
