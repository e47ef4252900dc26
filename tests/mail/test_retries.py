"""The app's own running sender against a relay that refuses for a while: the mail goes later,
once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope

from helpdesk.models import MailState, OutboxMail, utcnow
from tests.conftest import create_ticket, settings_for
from tests.mail.relay import Recorder, relay_for


class Clock:
    """The sender's clock, moved on by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


class RefusesForAWhile(Recorder):
    """Answers 4xx to the first DATA commands; an hour passes with each refusal, so the
    sender's backoff comes due without the test waiting for it."""

    def __init__(self, refusals: list[str]) -> None:
        super().__init__()
        self.refusals = refusals
        self.refused = 0
        self.clock = Clock()

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:  # noqa: N802
        if self.refusals:
            self.refused += 1
            self.clock.offset += timedelta(hours=1)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def busy_relay():
    recorder = RefusesForAWhile(["451 4.3.0 try again later", "452 4.3.1 out of space"])
    async with relay_for(recorder) as port:
        yield recorder, port


@pytest.fixture
def app_settings(tmp_path, database_url, busy_relay) -> dict[str, Any]:
    _, port = busy_relay
    return settings_for(
        tmp_path,
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{port}",
        notify_delay_seconds=0.01,
        consumer_poll_seconds=0.05,
    )


async def test_a_relay_that_refuses_for_a_while_gets_the_mail_later_once(app, cast, busy_relay):
    recorder, _ = busy_relay
    app.mail_sender.clock = recorder.clock
    cast.reporter.user.email = "rita@campus.test"
    await cast.reporter.user.save()
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "A technician is on the way."}
    )
    assert response.status_code == 201
    received = await recorder.wait_for(1, within=10)
    await app.mail_sender.stop()  # lets the round that sent it mark it
    assert recorder.refused == 2 and len(received) == 1
    assert str(received[0]["Subject"]) == f"[#{ticket['id']}] {ticket['title']}"
    row = await OutboxMail.get(recipient_id=cast.reporter.id)
    assert (row.state, row.attempts, row.last_error) == (MailState.SENT, 3, None)
