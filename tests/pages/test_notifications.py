"""The mail settings page and the one-click unsubscribe, without JavaScript."""

from __future__ import annotations

import re

import pytest

from helpdesk.mail.compose import MailSettings, compose_ticket_mail
from helpdesk.mail.tokens import unsubscribe_token
from helpdesk.models import Category, Ticket, User
from tests.conftest import Cast

ONE_CLICK = {"List-Unsubscribe": "One-Click"}  # the body RFC 8058 has mail providers send


async def text(response) -> str:
    return await response.get_data(as_text=True)


def checked(page: str) -> list[str]:
    return re.findall(r'name="email" value="(\w+)" checked', page)


async def preference(user_id: int) -> str:
    return (await User.get(id=user_id)).email_notifications


async def test_the_account_menu_links_to_the_settings_page(cast: Cast):
    page = await text(await cast.reporter.client.get("/account/password"))
    assert 'href="/account/notifications"' in page


async def test_the_page_shows_the_current_choice(cast: Cast):
    await User.filter(id=cast.reporter.id).update(email_notifications="digest")
    response = await cast.reporter.client.get("/account/notifications")
    assert response.status_code == 200
    page = await text(response)
    assert checked(page) == ["digest"]
    assert 'method="post" action="/account/notifications"' in page
    assert "no email address" in page  # the cast's accounts have none


@pytest.mark.parametrize("choice", ["off", "digest", "immediate"])
async def test_submitting_the_form_stores_the_choice(cast: Cast, choice: str):
    await User.filter(id=cast.staff.id).update(email="sam@campus.example")
    response = await cast.staff.client.post("/account/notifications", form={"email": choice})
    assert response.status_code == 200
    page = await text(response)
    assert "Saved" in page and checked(page) == [choice]
    assert "no email address" not in page
    assert await preference(cast.staff.id) == choice
    assert await preference(cast.reporter.id) == "immediate"


@pytest.mark.parametrize(("form", "words"), [({"email": "weekly"}, "Choose one of"), ({}, "fill")])
async def test_a_bad_choice_is_named_beside_the_field_and_changes_nothing(cast: Cast, form, words):
    await User.filter(id=cast.reporter.id).update(email_notifications="digest")
    response = await cast.reporter.client.post("/account/notifications", form=form)
    assert response.status_code == 400
    page = await text(response)
    assert re.search(rf'class="field-error" id="email-error">[^<]*{words}', page)
    assert checked(page) == ["digest"]
    assert await preference(cast.reporter.id) == "digest"


async def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast):
    for method in ("GET", "POST"):
        response = await cast.anonymous.client.open(
            "/account/notifications", method=method, form={"email": "off"}
        )
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert await User.filter(email_notifications="off").count() == 0


def link_for(app, user_id: int) -> str:
    return f"/unsubscribe/{unsubscribe_token(app.settings.secret_key, user_id)}"


async def test_opening_the_link_only_asks(app, cast: Cast):
    link = link_for(app, cast.reporter.id)
    for _ in range(2):  # scanners and previews open links: nothing may change
        response = await app.test_client().get(link)
        assert response.status_code == 200
        assert await preference(cast.reporter.id) == "immediate"
    page = await text(response)
    assert f'<form method="post" action="{link}">' in page
    assert "Stop all helpdesk mail</button>" in page


async def test_one_click_from_a_mail_provider_stops_all_mail(app, cast: Cast):
    # No session, no Origin, no Referer: a mail provider's server posting the RFC 8058 body.
    response = await app.test_client().post(link_for(app, cast.reporter.id), form=ONE_CLICK)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert "no more mail" in await text(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert await preference(cast.reporter.id) == "off"
    assert await preference(cast.other.id) == "immediate"
    again = await app.test_client().post(link_for(app, cast.reporter.id), form=ONE_CLICK)
    assert again.status_code == 200 and await preference(cast.reporter.id) == "off"


async def test_the_pages_button_stops_mail_and_says_so(app, cast: Cast):
    link = link_for(app, cast.reporter.id)
    response = await app.test_client().post(
        link, headers={"Origin": "http://localhost", "Accept": "text/html,*/*;q=0.8"}
    )
    assert response.status_code == 200
    page = await text(response)
    assert "you will get no more mail" in page and "<form" not in page.split("<main")[1]
    assert await preference(cast.reporter.id) == "off"
    shown = await text(await app.test_client().get(link))
    assert "no mail from the helpdesk already" in shown


async def test_the_link_in_a_mail_is_the_one_that_works(app, cast: Cast):
    user = cast.reporter.user
    assert user is not None
    user.email = "rita@campus.example"
    ticket = await Ticket.create(reporter=user, title="Wifi", description="d", category=Category.IT)
    mail = compose_ticket_mail(MailSettings.from_settings(app.settings), user, ticket, [], [])
    url = mail["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith(app.settings.public_url.rstrip("/") + "/unsubscribe/")
    path = url.removeprefix(app.settings.public_url.rstrip("/"))
    response = await app.test_client().post(path, form=ONE_CLICK)
    assert response.status_code == 200
    assert await preference(user.id) == "off"


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-1] + ("a" if token[-1] != "a" else "b"),  # signature
        lambda token: "9" + token,  # another user's number
        lambda token: token.split("-")[0],
        lambda token: "not-a-token",
    ],
)
async def test_a_forged_link_is_not_found_and_changes_nothing(app, cast: Cast, change):
    token = unsubscribe_token(app.settings.secret_key, cast.reporter.id)
    link = f"/unsubscribe/{change(token)}"
    for method in ("GET", "POST"):
        response = await app.test_client().open(link, method=method, form=ONE_CLICK)
        assert response.status_code == 404
    assert await User.filter(email_notifications="off").count() == 0


async def test_a_link_for_an_account_that_does_not_exist_is_not_found(app, cast: Cast):
    link = link_for(app, 987654)
    for method in ("GET", "POST"):
        response = await app.test_client().open(link, method=method, form=ONE_CLICK)
        assert response.status_code == 404
