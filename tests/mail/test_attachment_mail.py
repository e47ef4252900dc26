"""Files in mail, over real SMTP: notifications name a message's files and link to them, never
carry them; a reply by mail attaches its photos through the same checks as an upload on the web,
or is refused whole with a reason naming the file."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from PIL import Image
from quart.datastructures import FileStorage

from helpdesk.domain.attachments import describe_size
from helpdesk.mail import gateway as gateway_module
from helpdesk.mail.gateway import MAX_MAIL_BYTES, GatewayServices, MailGateway
from helpdesk.mail.notifier import DIGEST_AFTER
from helpdesk.mail.sender import MailSender, Relay, smtp_transport
from helpdesk.models import Attachment, Message, Status, Ticket, User, utcnow
from helpdesk.web.context import HelpdeskApp
from tests.conftest import Cast, create_ticket, json_of
from tests.mail.relay import relay
from tests.mail.test_gateway import address_for, mail, send, with_email
from tests.mail.test_notifier import deliver
from tests.uploads import samples

PUBLIC_URL = "https://help.campus.example"
PER_MESSAGE = 2


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    return {**app_settings, "public_url": PUBLIC_URL, "attachments_per_message": PER_MESSAGE}


@pytest.fixture
async def gateway(app: HelpdeskApp) -> AsyncIterator[MailGateway]:
    """The gateway on the app's services, its uploads included."""
    services = GatewayServices(
        app.settings, app.event_log, app.message_writer, app.allowances, app.uploads
    )
    running = MailGateway(services)
    await running.start("127.0.0.1:0")
    yield running
    await running.stop()


@pytest.fixture
async def rita(cast: Cast) -> User:
    return await with_email(cast.reporter.user, "rita@campus.example")


async def uploaded(client: Any, ticket_id: int, data: bytes, filename: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": FileStorage(io.BytesIO(data), filename=filename)},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def say(client: Any, ticket_id: int, body: str, files: list[dict], **fields: Any) -> None:
    response = await client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"body": body, "attachment_ids": [each["id"] for each in files], **fields},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)


async def deliver_digests(app: HelpdeskApp) -> None:
    """Handle what the log holds, then let a day pass: digests are due."""
    notifier = app.consumers.consumers[0]
    while await app.consumers.step(notifier):
        pass
    await notifier.tick(utcnow() + DIGEST_AFTER + timedelta(seconds=1))


async def sent_to_relay(count: int) -> list[EmailMessage]:
    """The outbox, sent over SMTP to a relay: the mails as the recipient's server got them."""
    async with relay() as (recorder, port):
        transport = smtp_transport(Relay.from_url(f"smtp://127.0.0.1:{port}"), "helpdesk@x.test")
        await MailSender(transport).tick(utcnow())
        received = await recorder.wait_for(count)
    assert len(received) == count
    return received  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return part.get_content()


def carried_files(message: EmailMessage) -> list[str]:
    """Every part of the mail that is not its text: what a mail client would show as a file."""
    return [
        part.get_content_type()
        for part in message.walk()
        if not part.is_multipart()
        and (part.is_attachment() or part.get_content_type() not in ("text/plain", "text/html"))
    ]


def link(file: dict[str, Any]) -> str:
    return f"{PUBLIC_URL}/files/{file['id']}"


async def test_a_staff_reply_with_a_photo_names_and_links_it_in_both_parts_and_never_carries_it(
    quiet, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(cast.staff.client, ticket["id"], samples.jpeg_with_gps(), "fuse.jpg")
    await say(cast.staff.client, ticket["id"], "This fuse blew, see the photo.", [photo])
    assert [row.to_address for row in await deliver(quiet)] == ["rita@campus.example"]
    [received] = await sent_to_relay(1)
    size = describe_size(photo["size"])
    text, html = text_of(received), html_of(received)
    assert "This fuse blew, see the photo." in text
    # In the news, and again in the conversation so far.
    assert text.count(f"- fuse.jpg ({size}): {link(photo)}") == 2
    assert html.count(f'<a href="{link(photo)}">fuse.jpg</a>') == 2
    assert f"({size})" in html
    assert carried_files(received) == []


async def test_the_link_in_the_mail_opens_the_file_only_for_someone_who_may_see_it(
    quiet, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(cast.staff.client, ticket["id"], samples.jpeg_with_gps(), "fuse.jpg")
    await say(cast.staff.client, ticket["id"], "", [photo])
    await deliver(quiet)
    [received] = await sent_to_relay(1)
    [path] = {
        line.split(": ", 1)[1].removeprefix(PUBLIC_URL)
        for line in text_of(received).splitlines()
        if line.strip().startswith("- fuse.jpg")
    }
    browser = {"Accept": "text/html"}
    signed_out = await cast.anonymous.client.get(path, headers=browser)
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/login?next=")
    assert (await cast.other.client.get(path, headers=browser)).status_code == 404
    opened = await cast.reporter.client.get(path, headers=browser)
    assert opened.status_code == 200 and opened.headers["Content-Type"] == "image/jpeg"


async def test_a_reply_of_files_alone_says_it_sent_them_in_the_mail_and_the_digest(
    quiet, cast, rita
):
    first = await create_ticket(cast.reporter.client)
    second = await create_ticket(cast.reporter.client, title="Printer jam")
    for ticket in (first, second):
        photo = await uploaded(cast.staff.client, ticket["id"], samples.jpeg_with_gps(), "a.jpg")
        invoice = await uploaded(cast.staff.client, ticket["id"], samples.pdf(), "invoice.pdf")
        await say(cast.staff.client, ticket["id"], "", [photo, invoice])
        if ticket is first:
            assert len(await deliver(quiet)) == 1  # rita's own mail, at once
            rita.email_notifications = "digest"
            await rita.save(update_fields=["email_notifications"])
    await deliver_digests(quiet)
    mails = await sent_to_relay(2)
    for received in mails:
        text, html = text_of(received), html_of(received)
        assert "Sam sent 2 files (" in text
        assert "<strong>Sam</strong> sent 2 files" in html
        assert f"- invoice.pdf ({describe_size(invoice['size'])}): " in text
        assert carried_files(received) == []
    digest = next(each for each in mails if "updates for" in str(each["Subject"]))
    assert link(photo) in text_of(digest) and f'href="{link(invoice)}"' in html_of(digest)


async def test_a_reporter_is_never_mailed_an_internal_notes_file(quiet, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    note = await uploaded(cast.staff.client, ticket["id"], samples.pdf(), "salaries-2026.pdf")
    await say(cast.staff.client, ticket["id"], "Budget for the repair", [note], internal=True)
    photo = await uploaded(cast.staff.client, ticket["id"], samples.jpeg_with_gps(), "fuse.jpg")
    await say(cast.staff.client, ticket["id"], "A technician is on the way.", [photo])
    assert len(await deliver(quiet)) == 1
    [received] = await sent_to_relay(1)
    whole = received.as_string()
    assert "A technician is on the way." in text_of(received) and link(photo) in html_of(received)
    assert "salaries" not in whole and f"/files/{note['id']}" not in whole
    assert "Budget" not in whole


def with_file(message: EmailMessage, data: bytes, filename: str, content_type: str) -> EmailMessage:
    maintype, subtype = content_type.split("/")
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


async def posted(client: Any, ticket_id: int) -> list[dict[str, Any]]:
    return (await json_of(await client.get(f"/api/v1/tickets/{ticket_id}/messages")))["items"]


async def test_a_reply_with_a_gps_tagged_photo_attaches_it_without_its_metadata(
    app, gateway, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "The radiator again, photo attached.")
    with_file(reply, samples.jpeg_with_gps(), "Radiator.JPG", "image/jpeg")
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 250, answer.text
    [message] = await posted(cast.staff.client, ticket["id"])
    assert message["body"] == "The radiator again, photo attached."
    [photo] = message["attachments"]
    assert (photo["filename"], photo["content_type"]) == ("Radiator.jpg", "image/jpeg")
    served = await cast.reporter.client.get(photo["url"])
    assert served.status_code == 200
    data = await served.get_data()
    assert not Image.open(io.BytesIO(data)).getexif()
    assert samples.CAMERA_SERIAL.encode() not in data and samples.SECRET.encode() not in data


async def test_a_photo_pasted_into_a_mail_without_text_is_posted_alone(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "unused")
    reply.set_content('<p><img src="cid:leak@phone.example"></p>', subtype="html")
    reply.add_related(
        samples.jpeg_with_gps(), maintype="image", subtype="jpeg", cid="<leak@phone.example>"
    )
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 250, answer.text
    [message] = await posted(cast.reporter.client, ticket["id"])
    assert message["body"] == ""
    assert [each["filename"] for each in message["attachments"]] == ["photo.jpg"]


async def test_a_web_page_named_png_refuses_the_whole_mail_naming_it(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "The receipt and a photo.")
    with_file(reply, samples.jpeg_with_gps(), "radiator.jpg", "image/jpeg")
    with_file(reply, samples.HTML_PAGE, "receipt.png", "image/png")
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 550 and answer.text.startswith("5.6.1 receipt.png: ")
    assert "web page" in answer.text
    assert await posted(cast.reporter.client, ticket["id"]) == []
    assert await Attachment.all().count() == 0, "the photo stored before it is removed again"


async def test_more_files_than_one_message_takes_refuses_the_mail(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "All the rooms.")
    for number in range(PER_MESSAGE + 1):
        with_file(reply, samples.jpeg_with_gps(), f"room-{number}.jpg", "image/jpeg")
    answer = await send(gateway.address, reply, to=to)
    assert (answer.code, answer.text) == (
        552,
        f"5.3.4 the mail has {PER_MESSAGE + 1} files and one reply takes at most {PER_MESSAGE}; "
        "send the others in another reply",
    )
    assert await posted(cast.reporter.client, ticket["id"]) == []
    assert await Attachment.all().count() == 0


async def test_a_mail_sent_twice_attaches_its_photo_once(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "Photo of the leak.")
    with_file(reply, samples.jpeg_with_gps(), "leak.jpg", "image/jpeg")
    first = await send(gateway.address, reply, to=to)
    again = await send(gateway.address, reply, to=to)
    assert (first.code, again.code) == (250, 250)
    [message] = await posted(cast.reporter.client, ticket["id"])
    assert [each["filename"] for each in message["attachments"]] == ["leak.jpg"]
    assert await Attachment.all().count() == 1


class NotPostedYet:
    """What the gateway's check sees of a mail delivered twice at once: the first still being
    stored."""

    @staticmethod
    async def exists(**_filters: Any) -> bool:
        return False


async def test_a_mail_delivered_again_while_the_first_is_posted_leaves_no_second_copy(
    app, gateway, cast, rita, monkeypatch
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "Photo of the leak.")
    with_file(reply, samples.jpeg_with_gps(), "leak.jpg", "image/jpeg")
    assert (await send(gateway.address, reply, to=to)).code == 250
    monkeypatch.setattr(gateway_module, "Message", NotPostedYet)
    assert (await send(gateway.address, reply, to=to)).code == 250
    assert await Message.filter(ticket_id=ticket["id"]).count() == 1
    assert await Attachment.all().count() == 1


async def test_a_photo_by_mail_reopens_the_reporters_closed_ticket_with_it(
    app, gateway, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    for status in ("active", "closed"):
        moved = await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
        assert moved.status_code == 200, await moved.get_data(as_text=True)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "It leaks again; the plumber's invoice is attached.")
    with_file(reply, samples.jpeg_with_gps(), "leak.jpg", "image/jpeg")
    with_file(reply, samples.pdf(), "invoice.pdf", "application/pdf")
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 250, answer.text
    assert (await Ticket.get(id=ticket["id"])).status == Status.ACTIVE
    [message] = await posted(cast.reporter.client, ticket["id"])
    assert [(each["filename"], each["content_type"]) for each in message["attachments"]] == [
        ("leak.jpg", "image/jpeg"),
        ("invoice.pdf", "application/pdf"),
    ]


async def test_a_signed_mails_signature_is_not_taken_for_a_file(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "Signed, as the university's mail does.")
    with_file(reply, b"0\x82\x05\x00 not checked", "smime.p7s", "application/pkcs7-signature")
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 250, answer.text
    [message] = await posted(cast.reporter.client, ticket["id"])
    assert (message["body"], message["attachments"]) == (
        "Signed, as the university's mail does.",
        [],
    )


async def test_an_exhausted_upload_allowance_defers_the_mail_and_keeps_nothing(
    app, gateway, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    for _ in range(app.settings.uploads_per_hour):  # they uploaded many photos in the app
        await app.allowances.upload.take(f"user:{rita.id}")
    to = address_for(app, ticket["id"], rita.id)
    reply = mail("rita@campus.example", to, "One more photo.")
    with_file(reply, samples.jpeg_with_gps(), "leak.jpg", "image/jpeg")
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 451 and answer.text.startswith("4.7.1 ")
    assert answer.text.endswith("try again later")
    assert await posted(cast.reporter.client, ticket["id"]) == []
    assert await Attachment.all().count() == 0


def noisy_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    """A photo that compresses badly: megabytes, as a phone's are."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        out, "JPEG", quality=95
    )
    return out.getvalue()


async def test_a_mail_of_megabytes_with_its_photo_is_taken(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    reply = with_file(
        mail("rita@campus.example", to, "A big one."), noisy_jpeg(), "big.jpg", "image/jpeg"
    )
    assert len(reply.as_bytes()) > 2 * MAX_MAIL_BYTES
    answer = await send(gateway.address, reply, to=to)
    assert answer.code == 250, answer.text
    [message] = await posted(cast.reporter.client, ticket["id"])
    assert [each["filename"] for each in message["attachments"]] == ["big.jpg"]


async def test_a_photo_makes_room_for_itself_only_not_for_more_text(app, gateway, cast, rita):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    long_text = "Hi\n" + ("x" * 75 + "\n") * (MAX_MAIL_BYTES // 76)
    reply = with_file(
        mail("rita@campus.example", to, long_text), noisy_jpeg(), "big.jpg", "image/jpeg"
    )
    answer = await send(gateway.address, reply, to=to)
    assert (answer.code, answer.text) == (552, "5.3.4 without its files the mail is over 1 MiB")
    assert await posted(cast.reporter.client, ticket["id"]) == []
    assert await Attachment.all().count() == 0


async def test_a_mail_of_short_lines_past_its_first_mebibyte_is_refused_unread(
    app, gateway, cast, rita
):
    ticket = await create_ticket(cast.reporter.client)
    to = address_for(app, ticket["id"], rita.id)
    boundary = "b"
    raw = (
        (
            f"From: rita@campus.example\r\nTo: {to}\r\nMessage-ID: {make_msgid()}\r\n"
            f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
            f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + b"\r\n" * (3 * MAX_MAIL_BYTES // 2)
        + f"--{boundary}--\r\n".encode()
    )
    answer = await send(gateway.address, raw, to=to, mail_from="rita@campus.example")
    assert (answer.code, answer.text) == (
        550,
        "5.6.0 the mail has more lines than one of its size can have",
    )
    assert await posted(cast.reporter.client, ticket["id"]) == []
