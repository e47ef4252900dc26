"""Password reset by mail, end to end through a real SMTP relay: the link, a new password,
every old session and socket ended, one use, one hour, and no account enumeration."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from helpdesk.live.connection import CloseCode
from helpdesk.models import MailedToken, OutboxMail, User, utcnow
from tests.conftest import PASSWORD, settings_for, signed_in_client
from tests.live.helpers import FrameReader
from tests.mail.relay import relay

PUBLIC_URL = "https://help.campus.test"
NEW_PASSWORD = "violet-kettle-harbour-29"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/password-reset/([A-Za-z0-9_-]{43})")


@pytest.fixture
async def mailbox():
    async with relay() as (recorder, port):
        yield recorder, port


@pytest.fixture
def app_settings(tmp_path, database_url, mailbox) -> dict[str, Any]:
    _, port = mailbox
    return settings_for(
        tmp_path,
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{port}",
        public_url=PUBLIC_URL,
        consumer_poll_seconds=0.05,
    )


@pytest.fixture
async def rita(cast) -> User:
    cast.reporter.user.email = "rita@campus.test"
    await cast.reporter.user.save()
    return cast.reporter.user


async def settled(app) -> None:
    """Wait for the mail work a reset request left running after its answer."""
    await asyncio.gather(*app.background_tasks)


async def ask(client, login: str, **options: Any):
    return await client.post("/api/v1/auth/password-reset", json={"login": login}, **options)


async def reset_link(mailbox, count: int = 1) -> str:
    recorder, _ = mailbox
    mail = (await recorder.wait_for(count))[count - 1]
    text = mail.get_body(("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return match[1]


async def confirm(client, token: str, password: str = NEW_PASSWORD):
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


async def login(client, password: str):
    return await client.post("/api/v1/auth/login", json={"username": "rita", "password": password})


async def test_a_mailed_link_sets_a_new_password_and_signs_out_everywhere(app, cast, rita, mailbox):
    async with cast.reporter.client.websocket("/ws") as socket:
        reader = FrameReader(socket)
        await reader.send({"op": "ping"})
        await reader.until("pong")
        asked = await ask(app.test_client(), "rita")
        assert asked.status_code == 202
        recorder, _ = mailbox
        token = await reset_link(mailbox)
        mail = recorder.received[0]
        assert mail["To"].addresses[0].addr_spec == "rita@campus.test"
        assert "List-Unsubscribe" not in mail

        done = await confirm(app.test_client(), token)
        assert done.status_code == 204, await done.get_data(as_text=True)
        closed = await reader.until_closed()
    assert isinstance(closed, WebsocketDisconnectError)
    assert closed.args[0] == CloseCode.SIGNED_OUT
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401
    assert (await login(app.test_client(), PASSWORD)).status_code == 401
    assert (await login(app.test_client(), NEW_PASSWORD)).status_code == 200
    again = await confirm(app.test_client(), token, "another-long-passphrase-71")
    assert again.status_code == 404
    assert (await login(app.test_client(), NEW_PASSWORD)).status_code == 200


async def test_the_token_is_kept_only_as_its_hash(app, rita, mailbox):
    await ask(app.test_client(), "rita")
    token = await reset_link(mailbox)
    stored = await MailedToken.get(user_id=rita.id)
    assert token not in (stored.id, str(stored))
    assert stored.used_at is None
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1)


async def test_an_expired_link_sets_nothing(app, rita, mailbox):
    await ask(app.test_client(), "rita")
    token = await reset_link(mailbox)
    await MailedToken.filter(user_id=rita.id).update(expires_at=utcnow() - timedelta(seconds=1))
    refused = await confirm(app.test_client(), token)
    assert refused.status_code == 404
    assert (await refused.get_json())["error"]["detail"] == "this link is not valid any more"
    assert (await login(app.test_client(), PASSWORD)).status_code == 200


async def test_a_weak_password_is_refused_and_the_link_still_works(app, rita, mailbox):
    await ask(app.test_client(), "rita")
    token = await reset_link(mailbox)
    weak = await confirm(app.test_client(), token, "password123")
    assert weak.status_code == 400
    assert (await weak.get_json())["error"]["field"] == "new_password"
    assert (await confirm(app.test_client(), token)).status_code == 204


async def test_an_email_address_finds_the_account_too(app, rita, mailbox):
    assert (await ask(app.test_client(), " Rita@Campus.test ")).status_code == 202
    token = await reset_link(mailbox)
    assert (await confirm(app.test_client(), token)).status_code == 204


async def test_an_unknown_login_is_answered_exactly_like_a_known_one(app, cast, rita, mailbox):
    answers = [await ask(app.test_client(), login) for login in ("rita", "nobody", "x@y.example")]
    await settled(app)
    shapes = [(answer.status_code, await answer.get_data()) for answer in answers]
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0][0] == 202
    assert await OutboxMail.all().values_list("to_address", flat=True) == ["rita@campus.test"]


async def test_deactivated_accounts_and_accounts_without_an_address_get_no_mail(
    app, cast, rita, mailbox
):
    rita.is_active = False
    await rita.save()
    answers = [await ask(app.test_client(), login) for login in ("rita", "oscar", "nobody")]
    await settled(app)
    assert len({(a.status_code, await a.get_data()) for a in answers}) == 1
    assert await OutboxMail.all().count() == 0


async def test_requests_beyond_the_allowance_get_429_per_address_and_per_account(app, rita):
    here, there = (
        {"scope_base": {"client": ("10.0.0.1", 1)}},
        {"scope_base": {"client": ("10.0.0.2", 1)}},
    )
    for _ in range(app.settings.account_mails_per_hour):
        assert (await ask(app.test_client(), "rita", **here)).status_code == 202
    from_here = await ask(app.test_client(), "someone-else", **here)
    assert from_here.status_code == 429
    assert int(from_here.headers["Retry-After"]) > 0
    assert (await from_here.get_json())["error"]["code"] == "rate_limited"
    assert (await ask(app.test_client(), "rita", **there)).status_code == 429
    assert (await ask(app.test_client(), "someone-else", **there)).status_code == 202
    await settled(app)
    assert await OutboxMail.filter(recipient_id=rita.id).count() == 5


async def test_a_signed_in_caller_is_not_signed_in_by_a_reset(app, cast, rita, mailbox):
    """The link sets the password; signing in with it is a separate, ordinary sign-in."""
    await ask(cast.other.client, "rita")
    token = await reset_link(mailbox)
    assert (await confirm(cast.other.client, token)).status_code == 204
    me = await (await cast.other.client.get("/api/v1/me")).get_json()
    assert me["username"] == "oscar"
    anonymous = await signed_in_client(app, None)
    assert (await confirm(anonymous, token)).status_code == 404
