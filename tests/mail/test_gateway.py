"""The inbound mail gateway, over real SMTP on TCP, as the campus MTA would hand it replies."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
import pytest

from helpdesk.errors import RateLimited
from helpdesk.mail.gateway import MAX_MAIL_BYTES, MailGateway
from helpdesk.mail.tokens import reply_address
from helpdesk.models import Message, Role, Status, StatusChange, Ticket, User
from helpdesk.server import mail_gateway
from helpdesk.web.context import HelpdeskApp
from tests.command import HELPDESK
from tests.conftest import PASSWORD, Cast, create_ticket
from tests.live.server import LiveServer, Person, free_port, prepare_database, server_env

QUOTED = """\

Best regards,
Rita

On Tue, 3 Mar 2026 at 10:00, Campus Helpdesk <helpdesk@campus.example> wrote:
> ## Reply above this line ##
> Sam wrote: could you try printing again?
"""


@dataclass
class Reply:
    code: int
    text: str


@pytest.fixture
async def gateway(app: HelpdeskApp) -> AsyncIterator[MailGateway]:
    running = mail_gateway(app)
    await running.start("127.0.0.1:0")
    yield running
    await running.stop()


async def with_email(user: User | None, email: str) -> User:
    assert user is not None
    user.email = email
    await user.save(update_fields=["email"])
    return user


def address_for(app: HelpdeskApp, ticket_id: int, user_id: int) -> str:
    settings = app.settings
    return reply_address(settings.secret_key, settings.reply_domain, ticket_id, user_id)


def mail(sender: str, to: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: [#1] Printer jammed"
    message["Message-ID"] = make_msgid(domain="mail.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def send(
    address: str, message: EmailMessage | bytes, *, to: str, mail_from: str | None = None
) -> Reply:
    """One SMTP transaction; the first refusal, or the answer to DATA."""
    host, port = address.rsplit(":", 1)
    if mail_from is None:
        assert isinstance(message, EmailMessage)
        mail_from = message["From"].addresses[0].addr_spec
    raw = message if isinstance(message, bytes) else message.as_bytes()
    async with aiosmtplib.SMTP(hostname=host, port=int(port), timeout=10) as smtp:
        try:
            await smtp.mail(mail_from)
            await smtp.rcpt(to)
            answer = await smtp.data(raw)
        except aiosmtplib.SMTPResponseException as refused:
            return Reply(refused.code, refused.message)
        return Reply(answer.code, answer.message)


async def bodies(ticket_id: int) -> list[str]:
    return [m.body for m in await Message.filter(ticket_id=ticket_id).order_by("id")]


@pytest.fixture
async def rita(cast: Cast) -> User:
    return await with_email(cast.reporter.user, "Rita@Campus.example")


async def test_a_reply_becomes_the_users_message_without_quote_or_signature(
    app, gateway, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    body = "It prints again, thank you!\n" + QUOTED
    reply = await send(gateway.address, mail("Rita <rita@campus.example>", to, body), to=to)
    assert reply.code == 250
    stored = await Message.filter(ticket_id=ticket["id"]).select_related("author")
    assert [(m.body, m.author.id, m.internal) for m in stored] == [
        ("It prints again, thank you!", rita.id, False)
    ]


async def test_a_staff_reply_by_mail_is_public(app, gateway, cast):
    staff = await with_email(cast.staff.user, "sam@campus.example")
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], staff.id)
    reply = await send(gateway.address, mail("sam@campus.example", to, "On my way."), to=to)
    assert reply.code == 250
    seen = await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/messages")
    assert [(m["body"], m["internal"]) for m in (await seen.get_json())["items"]] == [
        ("On my way.", False)
    ]


async def test_an_html_only_reply_is_read_as_text(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    message = mail("rita@campus.example", to, "unused")
    message.set_content(
        "<div>Still <b>broken</b> &amp; blinking.</div><br>"
        "<div>On Tue, 3 Mar 2026 at 10:00, Campus Helpdesk wrote:</div>"
        "<blockquote>Please try again.</blockquote>",
        subtype="html",
    )
    assert (await send(gateway.address, message, to=to)).code == 250
    assert await bodies(ticket["id"]) == ["Still broken & blinking."]


def forged(address: str) -> str:
    local, domain = address.split("@")
    return f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"


def other_ticket(address: str) -> str:
    """The user's signature for one ticket, put on another ticket's number."""
    prefix, ticket, user, signature = address.replace("+", "-", 1).split("-", 3)
    return f"{prefix}+{int(ticket) + 1}-{user}-{signature}"


def unknown_domain(address: str) -> str:
    return address.split("@")[0] + "@elsewhere.example"


@pytest.mark.parametrize("spoil", [forged, other_ticket, unknown_domain])
async def test_an_address_that_is_not_a_valid_token_is_refused_at_rcpt(
    app, gateway, cast, rita, spoil
):
    ticket = await create_ticket(cast.reporter.client)
    await create_ticket(cast.reporter.client)
    to = spoil(address_for(app, ticket["id"], rita.id))
    reply = await send(gateway.address, mail("rita@campus.example", to, "Hello"), to=to)
    assert reply.code == 550 and reply.text.startswith("5.1.1 ")
    assert await Message.all().count() == 0


async def test_a_sender_who_is_not_the_tokens_user_is_refused(app, gateway, cast, rita):
    await with_email(cast.other.user, "oscar@campus.example")
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("oscar@campus.example", to, "Me too"), to=to)
    assert reply.code == 550 and reply.text.startswith("5.7.1 ")
    assert "oscar@campus.example" in reply.text
    assert await bodies(ticket["id"]) == []


async def test_a_deactivated_account_cannot_reply_by_mail(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    rita.is_active = False
    await rita.save(update_fields=["is_active"])
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "Hello?"), to=to)
    assert (reply.code, reply.text) == (550, "5.7.1 this account is deactivated")
    assert await bodies(ticket["id"]) == []


async def test_an_automatic_reply_is_not_posted(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    out_of_office = mail("rita@campus.example", to, "I am away.", Auto_Submitted="auto-replied")
    reply = await send(gateway.address, out_of_office, to=to)
    assert (reply.code, reply.text) == (550, "5.7.1 automatic replies are not posted")
    bounce = await send(gateway.address, mail("rita@campus.example", to, "x"), to=to, mail_from="")
    assert bounce.code == 550
    assert await bodies(ticket["id"]) == []


async def test_an_oversized_mail_is_refused_with_552(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    huge = mail("rita@campus.example", to, "Hi\n" + "x" * 76 * (MAX_MAIL_BYTES // 76))
    reply = await send(gateway.address, huge, to=to)
    assert reply.code == 552
    assert await bodies(ticket["id"]) == []


async def test_a_mail_with_only_quoted_text_is_refused(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, QUOTED), to=to)
    assert (reply.code, reply.text) == (550, "5.6.0 no reply text found")
    assert await bodies(ticket["id"]) == []


async def test_a_reply_longer_than_a_message_may_be_is_refused(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    long_reply = mail("rita@campus.example", to, "word " * 1200)
    reply = await send(gateway.address, long_reply, to=to)
    assert reply.code == 550 and reply.text.startswith("5.6.0 the reply: ")
    assert "5000 characters" in reply.text
    assert await bodies(ticket["id"]) == []


async def test_a_reporters_reply_reopens_their_closed_ticket(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    for status in ("active", "closed"):
        moved = await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
        assert moved.status_code == 200, await moved.get_data(as_text=True)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "It broke again."), to=to)
    assert reply.code == 250
    assert (await Ticket.get(id=ticket["id"])).status == Status.ACTIVE
    reopen = await StatusChange.filter(ticket_id=ticket["id"]).order_by("-id").first()
    assert reopen is not None
    assert (reopen.actor_id, reopen.to_status, reopen.note) == (
        rita.id,
        Status.ACTIVE,
        "Reopened by a reply by mail",
    )
    assert await bodies(ticket["id"]) == ["It broke again."]


async def test_the_same_mail_delivered_twice_is_stored_once(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    message = mail("rita@campus.example", to, "Only once, please.")
    first = await send(gateway.address, message, to=to)
    again = await send(gateway.address, message, to=to)
    assert (first.code, again.code) == (250, 250)
    assert await bodies(ticket["id"]) == ["Only once, please."]


async def test_a_rate_limited_user_is_told_to_try_again_later(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    for _ in range(app.settings.chat_messages):  # they have been typing fast in the app
        await app.allowances.chat.take(f"user:{rita.id}")
    with pytest.raises(RateLimited):
        await app.allowances.chat.take(f"user:{rita.id}")
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "Hello"), to=to)
    assert reply.code == 451 and reply.text.startswith("4.7.1 ")
    assert reply.text.endswith("try again later")
    assert await bodies(ticket["id"]) == []


async def test_a_stopped_gateway_takes_no_more_mail(app, gateway):
    address = gateway.address
    await gateway.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await send(address, b"", to="x@localhost", mail_from="a@b.example")


@pytest.mark.live
async def test_a_reply_by_mail_appears_live_on_the_staff_members_socket(tmp_path: Path):
    mail_port = free_port()
    env = server_env(tmp_path, mail_gateway_bind=f"127.0.0.1:{mail_port}")
    prepare_database(env, {"sam": Role.STAFF})
    server = LiveServer(tmp_path, env).start()
    reporter = Person(server, "maya")
    staff = await Person(server, "sam").login()
    try:
        registered = await reporter.http.post(
            "/api/v1/auth/register",
            json={"username": "maya", "password": "heater-broken-214", "email": "maya@x.edu"},
        )
        assert registered.status_code == 201, registered.text
        maya = registered.json()["user"]
        created = await reporter.http.post(
            "/api/v1/tickets",
            json={"title": "Heater broken", "description": "Room 214", "category": "facilities"},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]
        socket = await staff.socket()
        await socket.join(f"ticket:{ticket_id}")
        to = reply_address(env["HELPDESK_SECRET_KEY"], "localhost", ticket_id, maya["id"])
        reply = await send(
            f"127.0.0.1:{mail_port}", mail("maya@x.edu", to, "Still cold.\n" + QUOTED), to=to
        )
        assert reply.code == 250
        event = await socket.until("event", kind="message.created", room=f"ticket:{ticket_id}")
        assert (event["data"]["body"], event["data"]["author"]["id"]) == ("Still cold.", maya["id"])
    finally:
        await reporter.close()
        await staff.close()
        assert server.stop() == 0, server.log()


def test_the_mail_gateway_command_serves_the_domain_and_stops_on_sigterm(tmp_path: Path):
    env = server_env(tmp_path)
    account = ["sam", "--role=staff", "--email=sam@campus.example", "--password-stdin"]
    created = subprocess.run(
        [*HELPDESK, "create-user", *account],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    gateway = subprocess.Popen(
        [*HELPDESK, "mail-gateway", "--bind", "127.0.0.1:0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert gateway.stdout is not None
        announced = gateway.stdout.readline()
        assert announced.startswith("mail gateway listening on "), announced
        address = announced.split()[-1]
        to = reply_address(env["HELPDESK_SECRET_KEY"], "localhost", 41, 1)
        reply = asyncio.run(send(address, mail("sam@campus.example", to, "Done."), to=to))
        # The sender was matched to the account, and the domain found no ticket 41.
        assert (reply.code, reply.text) == (550, "5.7.1 no such ticket")
    finally:
        gateway.send_signal(signal.SIGTERM)
        output, _ = gateway.communicate(timeout=30)
    assert gateway.returncode == 0, output
