"""The staff board as staff use it: closing asks first, counts, sort and filters in reach."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journey import api_client, card, ready


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
