"""Notification mail: headers a mail client threads and unsubscribes by, two escaped parts."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from helpdesk.domain.serialize import user_ref
from helpdesk.mail.compose import (
    REPLY_MARKER,
    MailSettings,
    Update,
    compose_digest,
    compose_ticket_mail,
)
from helpdesk.mail.tokens import ReplyTarget, parse_reply_address, parse_unsubscribe_token
from helpdesk.models import Category, Message, Role, Ticket, User
from helpdesk.web.context import HelpdeskApp
from tests.conftest import make_user

SCRIPT = "<script>alert(1)</script>"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def mail_settings(app: HelpdeskApp) -> MailSettings:
    return MailSettings(
        mail_from="Campus Helpdesk <helpdesk@campus.example>",
        public_url="https://help.campus.example",
        reply_domain="reply.campus.example",
        secret_key=app.settings.secret_key,
    )


async def reporter(display_name: str = "Rita Reporter") -> User:
    user = await make_user("rita", display_name=display_name)
    user.email = "rita@campus.example"
    await user.save()
    return user


async def ticket_of(user: User, title: str = "No wifi in Dorm B") -> Ticket:
    return await Ticket.create(
        reporter=user, title=title, description="Eduroam is gone.", category=Category.IT
    )


def reply(actor: User, body: str = "Try restarting the router, please.") -> Update:
    return Update(kind="reply", actor=user_ref(actor), at=AT, body=body)


def parsed(message: EmailMessage) -> EmailMessage:
    """What the recipient's mail client reads: the bytes on the wire, parsed back."""
    result = email.message_from_bytes(bytes(message), policy=default)
    assert isinstance(result, EmailMessage)
    return result


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return part.get_content()


async def ticket_mail(
    settings: MailSettings, title: str = "No wifi in Dorm B", body: str | None = None
) -> tuple[EmailMessage, User, Ticket]:
    user = await reporter()
    staff = await make_user("sam", Role.STAFF, display_name="Sam Staff")
    ticket = await ticket_of(user, title)
    mail = compose_ticket_mail(settings, user, ticket, [reply(staff, body or "Try again")], [])
    return parsed(mail), user, ticket


def test_mail_settings_come_from_the_app_settings(app: HelpdeskApp):
    settings = MailSettings.from_settings(app.settings)
    assert settings.mail_from == app.settings.mail_from
    assert settings.public_url == app.settings.public_url.rstrip("/")
    assert settings.reply_domain == app.settings.reply_domain
    assert settings.secret_key == app.settings.secret_key


async def test_subject_is_the_ticket_number_and_title(mail_settings: MailSettings):
    mail, _, ticket = await ticket_mail(mail_settings)
    assert mail["Subject"] == f"[#{ticket.id}] No wifi in Dorm B"


async def test_addressed_from_the_helpdesk_to_the_recipient(mail_settings: MailSettings):
    mail, user, _ = await ticket_mail(mail_settings)
    assert mail["From"].addresses[0].addr_spec == "helpdesk@campus.example"
    assert mail["To"].addresses[0].addr_spec == user.email
    assert mail["To"].addresses[0].display_name == "Rita Reporter"
    assert mail["Date"].datetime.tzinfo is not None


async def test_reply_to_names_the_ticket_and_the_recipient(mail_settings: MailSettings):
    mail, user, ticket = await ticket_mail(mail_settings)
    address = mail["Reply-To"].addresses[0].addr_spec
    target = parse_reply_address(mail_settings.secret_key, mail_settings.reply_domain, address)
    assert target == ReplyTarget(ticket.id, user.id)


async def test_mails_of_one_ticket_share_a_thread_and_other_tickets_do_not(
    mail_settings: MailSettings,
):
    user = await reporter()
    staff = await make_user("sam", Role.STAFF)
    first, other = await ticket_of(user), await ticket_of(user, "Projector broken")
    mails = [
        parsed(compose_ticket_mail(mail_settings, user, ticket, [reply(staff)], []))
        for ticket in (first, first, other)
    ]
    threads = [(mail["In-Reply-To"], mail["References"]) for mail in mails]
    assert threads[0] == threads[1] == (f"<ticket-{first.id}@help.campus.example>",) * 2
    assert threads[2] == (f"<ticket-{other.id}@help.campus.example>",) * 2
    message_ids = [mail["Message-ID"] for mail in mails]
    assert len(set(message_ids)) == 3
    assert all(mid.endswith("@help.campus.example>") for mid in message_ids)
    assert f"<ticket-{first.id}@help.campus.example>" not in message_ids


async def test_one_click_unsubscribe_names_the_recipient(mail_settings: MailSettings):
    mail, user, _ = await ticket_mail(mail_settings)
    link = mail["List-Unsubscribe"].strip()  # a long value is folded onto its own line
    prefix = "<https://help.campus.example/unsubscribe/"
    assert link.startswith(prefix) and link.endswith(">")
    token = link[len(prefix) : -1]
    assert parse_unsubscribe_token(mail_settings.secret_key, token) == user.id
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Id"].endswith("<notifications.help.campus.example>")
    assert mail["Auto-Submitted"] == "auto-generated"


async def test_a_text_part_and_an_html_part_link_to_the_ticket(mail_settings: MailSettings):
    mail, _, ticket = await ticket_mail(mail_settings, body="The router is back.")
    assert mail.get_content_type() == "multipart/alternative"
    url = f"https://help.campus.example/tickets/{ticket.id}"
    for content in (text_of(mail), html_of(mail)):
        assert url in content
        assert "Sam Staff" in content and "The router is back." in content
    assert f'href="{url}"' in html_of(mail)


async def test_text_part_opens_with_the_reply_marker(mail_settings: MailSettings):
    mail, _, _ = await ticket_mail(mail_settings)
    assert "Reply above this line" in REPLY_MARKER
    assert text_of(mail).splitlines()[0] == REPLY_MARKER
    assert REPLY_MARKER in html_of(mail)


async def test_user_text_is_escaped_in_the_html_part(mail_settings: MailSettings):
    user = await reporter(display_name=f"Rita {SCRIPT}")
    staff = await make_user("sam", Role.STAFF, display_name=f"Sam {SCRIPT}")
    ticket = await ticket_of(user, f"Wifi {SCRIPT}")
    await Message.create(ticket=ticket, author=user, body=f"Earlier {SCRIPT}")
    recent = await Message.filter(ticket=ticket).select_related("author")
    note = Update(
        kind="status",
        actor=user_ref(staff),
        at=AT,
        body=SCRIPT,
        from_status="open",
        to_status="active",
    )
    mail = parsed(
        compose_ticket_mail(mail_settings, user, ticket, [reply(staff, SCRIPT), note], recent)
    )
    html = html_of(mail)
    assert "<script" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for shown in (f"Wifi {escaped}", f"Rita {escaped}", f"Sam {escaped}", f"Earlier {escaped}"):
        assert shown in html
    assert html.count(escaped) == 9  # title twice, the two names in five places, three texts
    assert SCRIPT in text_of(mail)


async def test_a_line_break_in_a_title_cannot_add_a_header(mail_settings: MailSettings):
    mail, _, ticket = await ticket_mail(
        mail_settings, title="Wifi\r\nBcc: everyone@campus.example\n\nbody"
    )
    assert mail["Bcc"] is None
    assert mail["Subject"] == f"[#{ticket.id}] Wifi Bcc: everyone@campus.example body"
    assert "\n" not in mail["Subject"]


@pytest.mark.parametrize(
    "display_name",
    ["Zoë Ñúñez-Łukasik", 'Doe, "Jane" <jane@evil.example>', "Line\r\nBcc: x@evil.example"],
)
async def test_a_display_name_stays_the_recipients_name(
    mail_settings: MailSettings, display_name: str
):
    user = await reporter(display_name=display_name)
    mail = parsed(compose_ticket_mail(mail_settings, user, await ticket_of(user), [], []))
    (address,) = mail["To"].addresses
    assert address.addr_spec == "rita@campus.example"
    assert address.display_name == " ".join(display_name.split())
    assert mail["Bcc"] is None


async def test_long_non_ascii_text_keeps_to_short_seven_bit_lines(mail_settings: MailSettings):
    user = await reporter()
    staff = await make_user("sam", Role.STAFF)
    ticket = await ticket_of(user, "Café ☕")
    mail = compose_ticket_mail(mail_settings, user, ticket, [reply(staff, "Grüße " * 400)], [])
    wire = bytes(mail)
    assert wire.isascii()
    assert max(len(line) for line in wire.split(b"\r\n")) <= 78
    assert ("Grüße " * 400).strip() in text_of(parsed(mail))
    assert parsed(mail)["Subject"] == f"[#{ticket.id}] Café ☕"


async def test_recent_messages_are_shown_oldest_first(mail_settings: MailSettings):
    user = await reporter()
    staff = await make_user("sam", Role.STAFF, display_name="Sam Staff")
    ticket = await ticket_of(user)
    for author, body in ((user, "First, from me"), (staff, "Second, from staff")):
        await Message.create(ticket=ticket, author=author, body=body)
    recent = await Message.filter(ticket=ticket).order_by("id").select_related("author")
    mail = parsed(compose_ticket_mail(mail_settings, user, ticket, [reply(staff)], recent))
    for content in (text_of(mail), html_of(mail)):
        assert content.index("First, from me") < content.index("Second, from staff")


async def test_status_changes_and_assignments_are_told_in_words(mail_settings: MailSettings):
    user = await make_user("sam", Role.STAFF, display_name="Sam Staff")
    user.email = "sam@campus.example"
    await user.save()
    ada = await make_user("ada", Role.ADMIN, display_name="Ada Admin")
    ticket = await ticket_of(await make_user("rita"))
    updates = [
        Update(kind="assigned", actor=user_ref(ada), at=AT),
        Update(
            kind="status",
            actor=user_ref(ada),
            at=AT,
            body="Parts ordered",
            from_status="open",
            to_status="active",
        ),
    ]
    text = text_of(parsed(compose_ticket_mail(mail_settings, user, ticket, updates, [])))
    assert "Ada Admin assigned this ticket to you (02 Mar 2026, 09:30 UTC)." in text
    assert "Ada Admin changed the status from open to active (02 Mar 2026, 09:30 UTC):" in text
    assert "    Parts ordered" in text


async def test_a_recipient_without_an_address_is_refused(mail_settings: MailSettings):
    user = await make_user("rita")
    with pytest.raises(ValueError, match="no email address"):
        compose_ticket_mail(mail_settings, user, await ticket_of(user), [], [])


async def test_the_digest_lists_each_ticket(mail_settings: MailSettings):
    user = await reporter()
    staff = await make_user("sam", Role.STAFF, display_name="Sam Staff")
    tickets = [await ticket_of(user), await ticket_of(user, f"Projector {SCRIPT}")]
    groups = [(tickets[0], [reply(staff, "On my way")]), (tickets[1], [reply(staff, "Fixed")])]
    mail = parsed(compose_digest(mail_settings, user, groups))
    today = datetime.now(UTC)
    assert mail["Subject"] == f"Your helpdesk updates for {today.day} {today:%B %Y}"
    assert mail["In-Reply-To"] is None and mail["Reply-To"] is None
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = text_of(mail), html_of(mail)
    for ticket, body in zip(tickets, ("On my way", "Fixed"), strict=True):
        for content in (text, html):
            assert f"https://help.campus.example/tickets/{ticket.id}" in content
            assert f"#{ticket.id}" in content and body in content
        (address,) = (word for word in text.split() if word.startswith(f"reply+{ticket.id}-"))
        target = parse_reply_address(mail_settings.secret_key, mail_settings.reply_domain, address)
        assert target == ReplyTarget(ticket.id, user.id)
        assert f'href="mailto:{address}"' in html
    assert "No wifi in Dorm B" in text and f"Projector {SCRIPT}" in text
    assert "<script" not in html and "Projector &lt;script&gt;" in html
