"""Sending the outbox over real SMTP: once, retried while refused, never twice."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from tortoise.transactions import in_transaction

from helpdesk.mail.outbox import enqueue
from helpdesk.mail.sender import MailSender, Relay, eml_transport, smtp_transport
from helpdesk.models import MailState, OutboxMail, utcnow
from tests.mail.relay import only, relay


def mail(subject: str = "[#1] No wifi") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Campus Helpdesk <helpdesk@campus.test>"
    message["To"] = "rita@campus.test"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="campus.test")
    message.set_content("Technician on the way.")
    return message


async def queued(cast) -> OutboxMail:
    cast.reporter.user.email = "rita@campus.test"
    await cast.reporter.user.save()
    async with in_transaction("default") as connection:
        return await enqueue(
            connection, mail(), recipient=cast.reporter.user, ticket_id=None, kind="ticket"
        )


def sender(url: str) -> MailSender:
    transport = smtp_transport(Relay.from_url(url), "helpdesk@campus.test")
    return MailSender(transport, retry_base_seconds=60)


async def test_a_mail_reaches_the_relay_once_and_is_marked_sent(quiet, cast):
    async with relay() as (recorder, port):
        row = await queued(cast)
        plain = sender(f"smtp://127.0.0.1:{port}")
        await plain.tick(utcnow())
        await plain.tick(utcnow() + timedelta(days=1))
        received = await recorder.wait_for(1)
    assert len(received) == 1 and received[0]["Subject"] == "[#1] No wifi"
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.SENT and row.attempts == 1 and row.sent_at is not None


async def test_the_relay_login_is_used_and_a_wrong_one_fails_the_mail(quiet, cast):
    options = {"authenticator": only("helpdesk", "s3cret"), "auth_require_tls": False}
    async with relay(**options) as (recorder, port):
        good = await queued(cast)
        await sender(f"smtp://helpdesk:s3cret@127.0.0.1:{port}").tick(utcnow())
        assert len(await recorder.wait_for(1)) == 1
        bad = await queued(cast)
        await sender(f"smtp://helpdesk:wrong@127.0.0.1:{port}").tick(utcnow())
    assert (await OutboxMail.get(id=good.id)).state == MailState.SENT
    refused = await OutboxMail.get(id=bad.id)
    assert refused.state == MailState.FAILED and refused.last_error.startswith("535")
    assert len(recorder.received) == 1


async def test_a_relay_that_refuses_for_a_while_gets_the_mail_later_once(quiet, cast):
    async with relay() as (recorder, port):
        recorder.refusals = ["451 4.3.0 try again later", "421 4.3.2 going down"]
        row = await queued(cast)
        busy = sender(f"smtp://127.0.0.1:{port}")
        now = utcnow()
        await busy.tick(now)
        waiting = await OutboxMail.get(id=row.id)
        assert waiting.state == MailState.PENDING and waiting.last_error.startswith("451")
        assert waiting.next_attempt_at >= now + timedelta(seconds=60)
        await busy.tick(now + timedelta(seconds=30))  # not due yet
        assert (await OutboxMail.get(id=row.id)).attempts == 1
        for hours in (1, 2, 3, 4):
            await busy.tick(now + timedelta(hours=hours))
        received = await recorder.wait_for(1)
    assert len(received) == 1
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.SENT and row.attempts == 3


async def test_a_permanent_refusal_fails_the_mail_with_the_relay_reply(quiet, cast):
    async with relay() as (recorder, port):
        recorder.refusals = ["550 5.1.1 no such mailbox"]
        row = await queued(cast)
        refusing = sender(f"smtp://127.0.0.1:{port}")
        await refusing.tick(utcnow())
        await refusing.tick(utcnow() + timedelta(days=1))
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.FAILED and "no such mailbox" in row.last_error
    assert row.attempts == 1 and recorder.received == []


async def test_a_relay_that_is_down_is_tried_again_later(quiet, cast):
    async with relay() as (_recorder, port):
        pass  # the port is closed again: nothing listens there
    row = await queued(cast)
    await sender(f"smtp://127.0.0.1:{port}").tick(utcnow())
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.PENDING and row.attempts == 1 and row.last_error


async def test_a_mail_left_sending_by_a_stopped_process_is_uncertain_and_never_resent(quiet, cast):
    async with relay() as (recorder, port):
        row = await queued(cast)
        await OutboxMail.filter(id=row.id).update(state=MailState.SENDING, attempts=1)
        restarted = sender(f"smtp://127.0.0.1:{port}")
        await restarted.tick(utcnow())
        await restarted.tick(utcnow() + timedelta(days=1))
    row = await OutboxMail.get(id=row.id)
    assert row.state == MailState.UNCERTAIN and recorder.received == []


async def test_without_a_relay_mail_becomes_eml_files(quiet, cast, tmp_path):
    row = await queued(cast)
    await MailSender(eml_transport(tmp_path / "mail")).tick(utcnow())
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1 and row.message_id.strip("<>").split("@")[0] in files[0].name
    assert "Technician on the way." in files[0].read_text()
    assert (await OutboxMail.get(id=row.id)).state == MailState.SENT
