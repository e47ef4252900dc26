"""Edits of a ticket's details as the people on it see them: in the conversation and the
History panel, live, and the same after a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_journey import assert_not_reloaded, mark_no_reload, ready
from tests.browser.test_ticket_page import conversation_lines, new_ticket, say


def history_lines(page: Page) -> list[str]:
    """What each item of the History panel says, part by part, without its time."""
    return page.locator("#history > li").evaluate_all(
        r"""items => items.map(item => [...item.childNodes]
            .filter(part => part.nodeName !== "TIME")
            .map(part => part.textContent)
            .join(" ").replace(/\s+/g, " ").trim())"""
    )


def test_staff_editing_the_location_shows_live_on_the_reporters_page(open_session, live):
    ticket_id = new_ticket(live, "ben", "Radiator cold in the study room")
    say(live, "ben", ticket_id, "It has been cold since Monday.")
    ben = open_session("ben")
    priya = open_session("priya")
    ben.page.goto(f"/tickets/{ticket_id}")
    ready(ben.page)
    mark_no_reload(ben.page)

    priya.page.goto(f"/tickets/{ticket_id}")
    ready(priya.page)
    priya.page.get_by_text("Edit details").click()
    priya.page.get_by_label("Where?").fill("Library, study room 2")
    priya.page.get_by_label("Priority").select_option("high")
    priya.page.get_by_role("button", name="Save changes").click()

    edited = ben.page.locator(".conversation-event").filter(
        has_text="Priya changed the location and the priority"
    )
    expect(edited).to_contain_text("Location: none → Library, study room 2")
    expect(edited).to_contain_text("Priority: normal → high")
    expect(ben.page.locator("#history > li").last).to_contain_text(
        "Changed the location and the priority by Priya"
    )
    expect(ben.page.locator("#ticket-location")).to_have_text("Library, study room 2")
    assert_not_reloaded(ben.page)

    live_conversation = conversation_lines(ben.page)
    live_history = history_lines(ben.page)
    ben.page.reload()
    ready(ben.page)
    assert conversation_lines(ben.page) == live_conversation
    assert history_lines(ben.page) == live_history
