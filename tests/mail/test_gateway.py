"""The inbound mail gateway, over real SMTP on TCP, as the campus MTA would hand it replies."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from helpdesk.errors import RateLimited
from helpdesk.mail import gateway as gateway_module
from helpdesk.mail import replies
from helpdesk.mail.gateway import MAX_MAIL_BYTES, MAX_PARTS, MailGateway
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


class Spy:
    """Wraps a parser the gateway calls, and keeps what it was handed."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.inputs: list[str] = []

    def __call__(self, text: str, *args: Any, **kwargs: Any) -> Any:
        self.inputs.append(text)
        return self.real(text, *args, **kwargs)


def quote_parser_spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy(replies.ParsedReply)
    monkeypatch.setattr(replies, "ParsedReply", lambda text, **options: spy(text, **options))
    return spy


async def test_a_run_of_blank_lines_reaches_the_quote_parser_as_one(
    app, gateway, cast, rita, monkeypatch
):
    spy = quote_parser_spy(monkeypatch)
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(
        gateway.address, mail("rita@campus.example", to, "hi\r\n" + "\r\n" * 10_000), to=to
    )
    assert reply.code == 250
    assert await bodies(ticket["id"]) == ["hi"]
    assert spy.inputs and all("\n\n\n" not in text for text in spy.inputs)


async def test_the_quote_parser_reads_a_bounded_number_of_lines(
    app, gateway, cast, rita, monkeypatch
):
    spy = quote_parser_spy(monkeypatch)
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "a\n" * 8_000), to=to)
    assert reply.code == 550 and "5000 characters" in reply.text
    assert spy.inputs
    assert all(text.count("\n") < replies.SCANNED_LINES for text in spy.inputs)
    assert all(len(text) <= replies.SCANNED_CHARS for text in spy.inputs)


async def test_html_reaches_the_converter_cut_to_a_bounded_length(
    app, gateway, cast, rita, monkeypatch
):
    spy = Spy(replies.get_text)
    monkeypatch.setattr(replies, "get_text", spy)
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    rows = "<tr><td>x</td></tr>\n" * (MAX_MAIL_BYTES // 22)
    message = mail("rita@campus.example", to, "unused")
    message.set_content(f"<p>Still broken.</p><table>{rows}</table>", subtype="html")
    reply = await send(gateway.address, message, to=to)
    assert reply.code == 250
    assert spy.inputs and all(len(html) <= replies.HTML_CHARS for html in spy.inputs)
    [body] = await bodies(ticket["id"])
    assert body.startswith("Still broken.\n\nx\nx\n")  # the top of it, as far as was read


@pytest.fixture
def slow_reading(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowReading]:
    reading = SlowReading()
    monkeypatch.setattr(gateway_module, "reply_text", reading)
    yield reading
    reading.release.set()  # the reader thread ends with the test, whatever it asserted


class SlowReading:
    """A reply parser that works until the test releases it, as a hostile mail would."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.released: list[bool] = []

    def __call__(self, message: EmailMessage) -> str:
        self.started.set()
        self.released.append(self.release.wait(timeout=10))
        return "Read at last."


async def test_the_app_answers_requests_while_a_mail_is_being_read(
    app, gateway, cast, rita, slow_reading
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    sending = asyncio.create_task(
        send(gateway.address, mail("rita@campus.example", to, "x"), to=to)
    )
    assert await asyncio.to_thread(slow_reading.started.wait, 10)
    answer = await cast.staff.client.get(f"/api/v1/tickets/{ticket['id']}")
    slow_reading.release.set()
    assert answer.status_code == 200
    assert (await sending).code == 250
    assert slow_reading.released == [True]  # the request was answered while it read
    assert await bodies(ticket["id"]) == ["Read at last."]


async def test_a_mail_that_takes_too_long_to_read_is_deferred(
    app, gateway, cast, rita, slow_reading, monkeypatch
):
    monkeypatch.setattr(gateway_module, "READ_SECONDS", 0.2)
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "x"), to=to)
    assert reply.code == 451 and reply.text.startswith("4.3.0 ")
    assert reply.text.endswith("try again later")
    assert slow_reading.released == []  # answered while the parser was still at work
    assert await bodies(ticket["id"]) == []


@pytest.mark.parametrize(
    "header",
    [
        {"Auto_Submitted": "auto-generated"},
        {"Auto_Submitted": "auto-replied; owner-email=rita@campus.example"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"Precedence": "Junk"},
        {"X_Autoreply": "yes"},
        {"X_Autorespond": "I am on leave"},
    ],
)
async def test_a_mail_marked_as_automatic_in_any_way_is_not_posted(
    app, gateway, cast, rita, header
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "Away.", **header), to=to)
    assert (reply.code, reply.text) == (550, "5.7.1 automatic replies are not posted")
    assert await bodies(ticket["id"]) == []


async def test_a_mail_marked_not_automatic_is_posted(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    message = mail("rita@campus.example", to, "Typed by me.", Auto_Submitted="no")
    assert (await send(gateway.address, message, to=to)).code == 250
    assert await bodies(ticket["id"]) == ["Typed by me."]


async def test_a_rate_limited_reply_leaves_a_closed_ticket_closed(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    for status in ("active", "closed"):
        moved = await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
        assert moved.status_code == 200, await moved.get_data(as_text=True)
    for _ in range(app.settings.chat_messages):
        await app.allowances.chat.take(f"user:{rita.id}")
    to = address_for(app, ticket["id"], rita.id)
    reply = await send(gateway.address, mail("rita@campus.example", to, "It broke again."), to=to)
    assert reply.code == 451 and reply.text.startswith("4.7.1 ")
    assert (await Ticket.get(id=ticket["id"])).status == Status.CLOSED
    assert await StatusChange.filter(ticket_id=ticket["id"], to_status=Status.ACTIVE).count() == 1
    assert await bodies(ticket["id"]) == []


async def test_a_from_header_too_long_to_read_is_refused(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    crowd = ", ".join(f"p{n}@campus.example" for n in range(500))
    message = mail("rita@campus.example", to, "Hello")
    message.replace_header("From", crowd)
    reply = await send(gateway.address, message, to=to, mail_from="rita@campus.example")
    assert (reply.code, reply.text) == (550, "5.6.0 the mail's From header is too long to read")
    assert await bodies(ticket["id"]) == []


async def test_a_from_header_nested_too_deeply_is_refused(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    comments = "\r\n ".join(["(" * 500] * 3)  # folded: an SMTP line has at most 1,000
    raw = f"From: {comments}rita@campus.example\r\nTo: {to}\r\n\r\nHello\r\n".encode()
    reply = await send(gateway.address, raw, to=to, mail_from="rita@campus.example")
    assert (reply.code, reply.text) == (550, "5.7.1 the mail must have exactly one From address")
    assert await bodies(ticket["id"]) == []


def side_by_side(count: int) -> bytes:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
    return b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + part * count + b"--b--\r\n"


def nested(depth: int) -> bytes:
    return b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    ) + (b"Content-Type: text/plain\r\n\r\nHello\r\n")


@pytest.mark.parametrize("parts", [side_by_side(1_000), nested(1_500)], ids=["many", "nested"])
async def test_a_mail_of_too_many_parts_is_refused(app, gateway, cast, rita, parts):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    raw = f"From: rita@campus.example\r\nTo: {to}\r\nMIME-Version: 1.0\r\n".encode() + parts
    reply = await send(gateway.address, raw, to=to, mail_from="rita@campus.example")
    assert (reply.code, reply.text) == (550, f"5.6.0 the mail has more than {MAX_PARTS} parts")
    assert await bodies(ticket["id"]) == []
