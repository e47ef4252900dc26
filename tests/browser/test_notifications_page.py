"""Choosing how mail comes, in a real browser: from the account menu, by label, kept on reload."""

from __future__ import annotations

from playwright.sync_api import expect

from helpdesk.mail.tokens import unsubscribe_token
from tests.browser.conftest import Watch
from tests.browser.test_journey import api_client, ready


def test_a_person_chooses_a_daily_digest_from_the_account_menu(open_session, live):
    ben = open_session("ben")
    page = ben.page
    ready(page)
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Mail notifications")).to_be_visible()
    expect(page.get_by_label("Soon after each update")).to_be_checked()

    page.get_by_label("Once a day").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved: Once a day.")).to_be_visible()

    page.reload()
    expect(page.get_by_label("Once a day")).to_be_checked()
    expect(page.get_by_label("Soon after each update")).not_to_be_checked()
    with api_client(live, "ben") as client:
        assert client.get("/api/v1/me/notifications").json() == {"email": "digest"}


def test_the_unsubscribe_link_asks_then_stops_mail_without_signing_in(browser, live):
    with api_client(live, "carla") as client:
        carla = client.get("/api/v1/me").json()["id"]
    token = unsubscribe_token(live.env["HELPDESK_SECRET_KEY"], carla)
    context = browser.new_context(base_url=live.url)  # a mail app's link: nobody signed in
    watch = Watch(live.url)
    try:
        page = context.new_page()
        watch.attach(context, page)
        page.goto(f"/unsubscribe/{token}")
        button = page.get_by_role("button", name="Stop all helpdesk mail")
        expect(button).to_be_visible()
        with api_client(live, "carla") as client:
            assert client.get("/api/v1/me/notifications").json() == {"email": "immediate"}

        button.click()
        done = "Done: you will get no more mail from the helpdesk."
        expect(page.get_by_role("status").filter(has_text=done)).to_be_visible()
        with api_client(live, "carla") as client:
            assert client.get("/api/v1/me/notifications").json() == {"email": "off"}
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
