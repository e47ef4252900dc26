"""A board with more tickets than a column shows: a page at a time with real counts, live updates
on cards of any page shown, a search that finds what no page shows, and filters kept by name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journey import api_client, card, ready

OPEN, ACTIVE = 130, 60  # more than one page (50) of each column
PAGE = 50


@pytest.fixture(scope="module")
def many(live) -> dict[str, list[int]]:
    """The tickets of this module's server, newest last; staff log them (no hourly limit)."""
    made: dict[str, list[int]] = {"open": [], "active": []}
    with api_client(live, "priya") as priya:
        for n in range(OPEN + ACTIVE):
            body = {
                "title": f"Radiator {n} cold in block {n % 7}",
                "description": "No heat since the weekend.",
                "category": "facilities",
                "location": f"Dorm {'AB'[n % 2]}, room {100 + n}",
            }
            response = priya.post("/api/v1/tickets", json=body)
            assert response.status_code == 201, response.text
            made["open"].append(response.json()["id"])
        for ticket_id in made["open"][:ACTIVE]:
            moved = priya.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": "active"})
            assert moved.status_code == 200, moved.text
            made["active"].append(ticket_id)
    made["open"] = made["open"][ACTIVE:]
    return made


def shown_ids(page, status: str) -> list[int]:
    cards = page.locator(f'ol.cards[data-status="{status}"] .card')
    return [int(i) for i in cards.evaluate_all("cards => cards.map(c => c.dataset.ticketId)")]


def count_of(page, status: str):
    return page.locator(f'section.column[data-status="{status}"] [data-count]')


def test_each_column_shows_a_page_with_its_real_count_and_more_on_demand(open_session, live, many):
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    newest_open = sorted(many["open"], reverse=True)
    assert shown_ids(sam.page, "open") == newest_open[:PAGE]
    assert shown_ids(sam.page, "active") == sorted(many["active"], reverse=True)[:PAGE]
    expect(count_of(sam.page, "open")).to_have_text(str(OPEN))
    expect(count_of(sam.page, "active")).to_have_text(str(ACTIVE))

    column = sam.page.locator('section.column[data-status="open"]')
    column.get_by_role("button", name="Show more").click()
    expect(column.locator(".card")).to_have_count(2 * PAGE)
    assert shown_ids(sam.page, "open") == newest_open[: 2 * PAGE]

    # A card of the second page follows a change made elsewhere.
    later = newest_open[PAGE + 10]
    with api_client(live, "priya") as priya:
        title = priya.get(f"/api/v1/tickets/{later}").json()["title"] + ", still"
        changed = priya.patch(f"/api/v1/tickets/{later}", json={"title": title})
        assert changed.status_code == 200
    expect(card(sam.page, later, "open").locator(".card-title")).to_have_text(title)

    column.get_by_role("button", name="Show more").click()
    expect(column.locator(".card")).to_have_count(OPEN)
    expect(column.get_by_role("button", name="Show more")).to_have_count(0)
    assert shown_ids(sam.page, "open") == newest_open


def test_a_search_by_number_finds_a_ticket_no_page_shows(open_session, many):
    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    oldest = min(many["open"])
    assert oldest not in shown_ids(sam.page, "open")
    sam.page.get_by_label("Search").fill(f"#{oldest}")
    sam.page.get_by_role("button", name="Filter").click()
    sam.page.wait_for_url(re.compile(r".*/board\?.*q=%23"))
    ready(sam.page)
    assert shown_ids(sam.page, "open") == [oldest]
    expect(count_of(sam.page, "open")).to_have_text("1")


def test_filters_are_kept_under_a_name_picked_and_deleted(open_session, many):
    sam = open_session("sam")
    sam.page.goto("/board?q=block+3&sort=waiting")
    ready(sam.page)
    sam.page.get_by_label("Save these filters as").fill("Block 3, oldest first")
    sam.page.get_by_role("button", name="Save", exact=True).click()
    saved = sam.page.get_by_role("list", name="Saved filters").get_by_role(
        "link", name="Block 3, oldest first"
    )
    expect(saved).to_have_attribute("aria-current", "true")

    sam.page.goto("/board")
    ready(sam.page)
    saved.click()
    sam.page.wait_for_url(re.compile(r".*/board\?q=block\+3&sort=waiting$"))
    ready(sam.page)
    expect(sam.page.get_by_label("Search")).to_have_value("block 3")
    expect(sam.page.get_by_label("Sort")).to_have_value("waiting")
    in_block = [n for n in range(OPEN + ACTIVE) if n % 7 == 3 and n >= ACTIVE]
    expect(count_of(sam.page, "open")).to_have_text(str(len(in_block)))

    sam.page.get_by_role("button", name="Delete the saved filter Block 3, oldest first").click()
    expect(saved).to_have_count(0)
    sam.page.reload()
    ready(sam.page)
    expect(saved).to_have_count(0)
