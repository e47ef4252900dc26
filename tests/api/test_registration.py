"""Who may register: anyone (`open`), campus addresses confirmed by a mailed link
(`domains`), or nobody (`off`); on the API and on the register page."""

from __future__ import annotations

import asyncio
import re
from email import message_from_string
from email.policy import default
from typing import Any

import pytest

from helpdesk.config import ConfigError, load_settings
from helpdesk.models import OutboxMail, User
from tests.conftest import TICKET, create_ticket, settings_for

DOMAINS = {"registration": "domains", "registration_domains": ("campus.example",)}
OFF = {"registration": "off"}
PASSWORD = "heater-broken-214"


@pytest.fixture
def registration() -> dict[str, Any]:
    return {}


@pytest.fixture
def app_settings(app_settings, registration) -> dict[str, Any]:
    return {**app_settings, **registration}


async def sign_up(client, username: str = "bea", email: str | None = "bea@campus.example"):
    body = {"username": username, "password": PASSWORD}
    if email is not None:
        body["email"] = email
    return await client.post("/api/v1/auth/register", json=body)


async def confirmation_token(app, count: int = 1) -> str:
    await asyncio.gather(*app.background_tasks)
    rows = await OutboxMail.filter(kind="confirm_address").order_by("id")
    assert len(rows) == count
    mail = message_from_string(rows[-1].message, policy=default)
    match = re.search(
        r"/confirm-address/([A-Za-z0-9_-]{43})", mail.get_body(("plain",)).get_content()
    )
    assert match
    return match[1]


async def test_open_registration_makes_a_confirmed_account_that_reports_at_once(app):
    client = app.test_client()
    assert (await sign_up(client, email="bea@anywhere.example")).status_code == 201
    assert (await User.get(username="bea")).email_confirmed
    await create_ticket(client)
    assert await OutboxMail.all().count() == 0


@pytest.mark.parametrize("registration", [DOMAINS])
@pytest.mark.parametrize("email", ["bea@elsewhere.example", "bea@sub.campus.example", None])
async def test_only_a_campus_address_may_register(app, email):
    refused = await sign_up(app.test_client(), email=email)
    assert refused.status_code == 400
    error = (await refused.get_json())["error"]
    assert error["field"] == "email"
    assert error["detail"] == "use your campus email address (ending in @campus.example)"
    assert not await User.exists(username="bea")


@pytest.mark.parametrize("registration", [DOMAINS])
async def test_a_campus_account_reports_once_its_mailed_link_confirms_it(app, cast):
    client = app.test_client()
    made = await sign_up(client, email="Bea@Campus.Example")
    assert made.status_code == 201
    bea = await User.get(username="bea")
    assert not bea.email_confirmed

    refused = await client.post("/api/v1/tickets", json=TICKET)
    assert refused.status_code == 403
    assert (await refused.get_json())["error"]["detail"].startswith("confirm your address first")
    for_her = await create_ticket(cast.staff.client, reporter_id=bea.id)
    reply = await client.post(f"/api/v1/tickets/{for_her['id']}/messages", json={"body": "Hi"})
    assert reply.status_code == 403

    token = await confirmation_token(app)
    confirmed = await client.post("/api/v1/auth/confirm-address", json={"token": token})
    assert confirmed.status_code == 200
    await create_ticket(client)
    reply = await client.post(f"/api/v1/tickets/{for_her['id']}/messages", json={"body": "Hi"})
    assert reply.status_code == 201
    again = await client.post("/api/v1/auth/confirm-address", json={"token": token})
    assert again.status_code == 404


@pytest.mark.parametrize("registration", [DOMAINS])
async def test_an_unconfirmed_account_may_ask_for_another_link(app):
    client = app.test_client()
    await sign_up(client)
    first = await confirmation_token(app)
    asked = await client.post("/api/v1/me/confirmation")
    assert asked.status_code == 202
    second = await confirmation_token(app, count=2)
    assert second != first
    assert (
        await client.post("/api/v1/auth/confirm-address", json={"token": second})
    ).status_code == 200
    assert (await client.post("/api/v1/me/confirmation")).status_code == 409


@pytest.mark.parametrize("registration", [DOMAINS])
async def test_existing_and_staff_made_accounts_are_confirmed(app, cast):
    await create_ticket(cast.reporter.client)
    made = await cast.admin.client.post(
        "/api/v1/users",
        json={"username": "nina", "password": "helpdesk-demo-2026", "email": "nina@x.example"},
    )
    assert made.status_code == 201
    assert (await User.get(username="nina")).email_confirmed


@pytest.mark.parametrize("registration", [DOMAINS])
async def test_the_register_page_asks_for_a_campus_address_and_mails_a_link(app):
    client = app.test_client()
    page = await (await client.get("/register")).get_data(as_text=True)
    assert "ending in @campus.example" in page
    form = {"username": "bea", "password": PASSWORD, "email": "bea@elsewhere.example"}
    refused = await client.post("/register", form=form)
    assert refused.status_code == 400
    assert "Use your campus email address (ending in @campus.example)." in await refused.get_data(
        as_text=True
    )

    made = await client.post("/register", form={**form, "email": "bea@campus.example"})
    assert made.status_code == 302
    assert made.headers["Location"] == "/confirm-address"
    waiting = await (await client.get("/confirm-address")).get_data(as_text=True)
    assert "bea@campus.example" in waiting
    new_ticket = {"title": "Broken heater", "description": "Cold", "category": "facilities"}
    refused = await client.post("/tickets/new", form=new_ticket)
    assert refused.status_code == 403
    assert "Confirm your address first" in await refused.get_data(as_text=True)

    token = await confirmation_token(app)
    button = await client.get(f"/confirm-address/{token}")
    assert button.status_code == 200
    assert not (await User.get(username="bea")).email_confirmed, "a GET changes nothing"
    done = await client.post(f"/confirm-address/{token}")
    assert "your address is confirmed" in await done.get_data(as_text=True)
    assert (await client.post("/tickets/new", form=new_ticket)).status_code == 302


@pytest.mark.parametrize("registration", [OFF])
async def test_closed_registration_refuses_on_the_api_and_says_so_on_the_page(app):
    refused = await sign_up(app.test_client())
    assert refused.status_code == 403
    assert "registration is closed" in (await refused.get_json())["error"]["detail"]
    page = await app.test_client().get("/register")
    assert "Registration is closed here" in await page.get_data(as_text=True)
    assert 'name="password"' not in await page.get_data(as_text=True)
    posted = await app.test_client().post(
        "/register", form={"username": "bea", "password": PASSWORD}
    )
    assert posted.status_code == 403
    assert not await User.exists(username="bea")


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"HELPDESK_REGISTRATION": "closed"}, "must be open, domains or off"),
        ({"HELPDESK_REGISTRATION": "domains"}, "needs HELPDESK_REGISTRATION_DOMAINS"),
    ],
)
def test_a_registration_setting_that_cannot_work_is_refused_at_start(
    tmp_path, environment, message
):
    with pytest.raises(ConfigError, match=message):
        load_settings(environment, settings_for(tmp_path))


def test_registration_domains_are_read_lower_case_without_the_at(tmp_path):
    environment = {
        "HELPDESK_REGISTRATION": "domains",
        "HELPDESK_REGISTRATION_DOMAINS": "@Campus.Example, staff.campus.example",
    }
    settings = load_settings(environment, settings_for(tmp_path))
    assert settings.registration_domains == ("campus.example", "staff.campus.example")
