"""The admin in a real browser: finds a student, deactivates them, and the student's open
ticket page is signed out at once through its socket; the audit log shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from helpdesk.models import Role
from tests.browser.conftest import ACCOUNTS
from tests.browser.test_journey import api_client, ready
from tests.live.server import LiveServer, prepare_database, server_env


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """The shared accounts and an admin."""
    root = tmp_path_factory.mktemp("admin")
    env = server_env(root)
    prepare_database(env, {**ACCOUNTS, "ada": Role.ADMIN})
    server = LiveServer(root, env).start()
    yield server
    server.stop()


def test_deactivating_a_student_signs_out_their_open_page_and_is_audited(open_session, live):
    with api_client(live, "carla") as client:
        ticket = {"title": "Printer jam", "description": "Library, 2nd floor.", "category": "it"}
        response = client.post("/api/v1/tickets", json=ticket)
        assert response.status_code == 201, response.text
        ticket_id = response.json()["id"]
    carla = open_session("carla")
    carla.page.goto(f"/tickets/{ticket_id}")
    ready(carla.page)
    sam = open_session("sam")
    sam.page.goto(f"/tickets/{ticket_id}")
    # Carla's socket is in the ticket's room once her page shows who else is looking.
    expect(carla.page.locator("#viewers")).to_contain_text("Sam")

    ada = open_session("ada")
    expect(ada.page).to_have_url(re.compile(r".*/admin/$"))
    expect(ada.page.get_by_role("link", name="Staff board")).to_be_visible()
    ada.page.get_by_label("Name, username or email").fill("carla")
    ada.page.get_by_role("button", name="Search").click()
    ada.page.get_by_role("link", name="Carla").click()
    ada.watch.expect_status(400)  # without the confirmation: the page says what is missing
    ada.page.get_by_role("button", name="Deactivate").click()
    expect(ada.page.get_by_text("Tick the box to confirm")).to_be_visible()
    expect(carla.page).to_have_url(re.compile(rf".*/tickets/{ticket_id}$"))

    ada.page.get_by_label("Yes, sign Carla out everywhere").check()
    ada.page.get_by_role("button", name="Deactivate").click()
    expect(ada.page.get_by_role("status").filter(has_text="deactivated")).to_contain_text(
        "Carla is deactivated and signed out everywhere"
    )

    expect(carla.page).to_have_url(re.compile(r".*/login\?next="))
    expect(carla.page.get_by_label("Username")).to_be_visible()

    ada.page.get_by_role("link", name="Audit log").click()
    expect(
        ada.page.get_by_role("row").filter(has_text="deactivated Carla (carla)")
    ).to_contain_text("Ada (ada)")
