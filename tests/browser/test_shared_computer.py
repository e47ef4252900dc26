"""A shared computer: once someone signs out, the next person cannot page back into their data."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_journey import api_client, ready

PRIVATE = "My student number is 4711 and my room key is lost."


def test_back_after_sign_out_shows_the_sign_in_form_not_the_conversation(open_session, live):
    with api_client(live, "carla") as client:
        ticket = {"title": "Lost room key", "description": "Dorm A.", "category": "facilities"}
        response = client.post("/api/v1/tickets", json=ticket)
        assert response.status_code == 201, response.text
        ticket_id = response.json()["id"]
        response = client.post(f"/api/v1/tickets/{ticket_id}/messages", json={"body": PRIVATE})
        assert response.status_code == 201, response.text
    carla = open_session("carla", http_cache=True)
    page = carla.page
    page.goto(f"/tickets/{ticket_id}")
    ready(page)
    expect(page.get_by_text(PRIVATE)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login$"))

    page.go_back()
    expect(page).to_have_url(re.compile(r".*/login\?next="))
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_text(PRIVATE)).to_have_count(0)
