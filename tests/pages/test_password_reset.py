"""The password reset pages, without scripts: the link on the sign-in form, the request form,
the mailed link's form, and the plain page for a link that does not work."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email import message_from_string
from email.policy import default

import pytest

from helpdesk.models import MailedToken, OutboxMail, utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "violet-kettle-harbour-29"
ASKED = "If an account matches, we sent a link to its email address."


@pytest.fixture
async def rita(cast):
    cast.reporter.user.email = "rita@campus.test"
    await cast.reporter.user.save()
    return cast.reporter.user


async def mailed_token(app) -> str:
    """The token in the reset mail as the outbox holds it, once the request's work is done."""
    await asyncio.gather(*app.background_tasks)
    row = await OutboxMail.get(kind="password_reset")
    text = message_from_string(row.message, policy=default).get_body(("plain",)).get_content()
    match = re.search(r"/password-reset/([A-Za-z0-9_-]{43})", text)
    assert match, text
    return match[1]


async def ask(client, login: str):
    return await client.post("/password-reset", form={"login": login})


async def test_the_sign_in_form_links_to_a_form_that_answers_the_same_for_anyone(app, rita):
    login_page = await (await app.test_client().get("/login")).get_data(as_text=True)
    assert 'href="/password-reset"' in login_page
    form = await app.test_client().get("/password-reset")
    assert form.status_code == 200
    assert 'name="login"' in await form.get_data(as_text=True)
    known, unknown = await ask(app.test_client(), "rita"), await ask(app.test_client(), "nobody")
    assert known.status_code == unknown.status_code == 200
    texts = [await answer.get_data(as_text=True) for answer in (known, unknown)]
    assert ASKED in texts[0]
    assert texts[0] == texts[1]
    assert await mailed_token(app)


async def test_the_mailed_link_sets_a_new_password_once(app, cast, rita):
    await ask(app.test_client(), "rita")
    token = await mailed_token(app)
    page = await app.test_client().get(f"/password-reset/{token}")
    assert page.status_code == 200
    assert 'name="new_password"' in await page.get_data(as_text=True)

    weak = await app.test_client().post(f"/password-reset/{token}", form={"new_password": "rita"})
    assert weak.status_code == 400
    assert "at least 10 characters" in await weak.get_data(as_text=True)

    done = await app.test_client().post(
        f"/password-reset/{token}", form={"new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200
    assert "Password changed" in await done.get_data(as_text=True)
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401
    signed_in = await app.test_client().post(
        "/login", form={"username": "rita", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    old = await app.test_client().post("/login", form={"username": "rita", "password": PASSWORD})
    assert old.status_code == 401

    used = await app.test_client().get(f"/password-reset/{token}")
    assert used.status_code == 404
    assert "This link does not work" in await used.get_data(as_text=True)


async def test_an_expired_or_made_up_link_shows_the_same_plain_page(app, rita):
    await ask(app.test_client(), "rita")
    token = await mailed_token(app)
    await MailedToken.filter(user_id=rita.id).update(expires_at=utcnow() - timedelta(seconds=1))
    expired = await app.test_client().post(
        f"/password-reset/{token}", form={"new_password": NEW_PASSWORD}
    )
    made_up = await app.test_client().get("/password-reset/" + "x" * 43)
    assert expired.status_code == made_up.status_code == 404
    assert await expired.get_data() == await made_up.get_data()


async def test_asking_too_often_gets_429_on_the_page(app, rita):
    for _ in range(app.settings.account_mails_per_hour):
        assert (await ask(app.test_client(), "rita")).status_code == 200
    refused = await ask(app.test_client(), "rita")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "try again later" in await refused.get_data(as_text=True)
