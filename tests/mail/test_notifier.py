"""Who is mailed about what: one mail per ticket per delay, none for what was seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from helpdesk.mail.notifier import DIGEST_AFTER
from helpdesk.models import OutboxMail, PendingNotification, utcnow
from tests.conftest import create_ticket


@pytest.fixture
async def people(quiet, cast):
    """Everyone with an address, and the app's notifier, driven by the test's clock."""
    for actor in (cast.reporter, cast.staff, cast.admin):
        actor.user.email = f"{actor.user.username}@campus.test"
        await actor.user.save()
    return cast


async def deliver(app) -> list[OutboxMail]:
    """Handle what the log holds, then let the delay pass; the outbox afterwards."""
    runner = app.consumers
    notifier = runner.consumers[0]
    while await runner.step(notifier):
        pass
    later = utcnow() + timedelta(seconds=app.settings.notify_delay_seconds + 1)
    await notifier.tick(later)
    await notifier.tick(later + timedelta(seconds=1))
    return list(await OutboxMail.all().order_by("id").prefetch_related("recipient"))


async def reply(actor, ticket_id: int, body: str, **fields) -> dict:
    response = await actor.client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"body": body, **fields}
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def test_a_reporter_offline_gets_one_mail_for_two_quick_staff_replies(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    await reply(people.staff, ticket["id"], "Is it the whole floor?")
    await reply(people.staff, ticket["id"], "A technician is on the way.")
    mails = await deliver(quiet)
    assert [mail.to_address for mail in mails] == ["rita@campus.test"]
    assert mails[0].ticket_id == ticket["id"]
    assert "Is it the whole floor?" in mails[0].message
    assert "A technician is on the way." in mails[0].message
    assert len(await deliver(quiet)) == 1, "nothing twice"


async def test_an_internal_note_never_produces_a_mail_to_the_reporter(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    await reply(people.staff, ticket["id"], "Reporter sounds annoyed", internal=True)
    assert await deliver(quiet) == []
    assert await PendingNotification.all().count() == 0


async def test_a_read_marker_past_the_replies_means_no_mail(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    await reply(people.staff, ticket["id"], "Is it the whole floor?")
    last = await reply(people.staff, ticket["id"], "A technician is on the way.")
    read = await people.reporter.client.post(
        f"/api/v1/tickets/{ticket['id']}/read", json={"message_id": last["id"]}
    )
    assert read.status_code == 204
    assert await deliver(quiet) == []


async def test_staff_get_one_for_an_assignment_and_for_a_reporter_reply(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    assigned = await people.admin.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": people.staff.id}
    )
    assert assigned.status_code == 200, await assigned.get_data(as_text=True)
    first = await deliver(quiet)
    assert [mail.to_address for mail in first] == ["sam@campus.test"]
    await reply(people.reporter, ticket["id"], "It is back for now")
    second = (await deliver(quiet))[len(first) :]
    assert [mail.to_address for mail in second] == ["sam@campus.test"]
    assert "It is back for now" in second[0].message


async def test_nobody_is_mailed_about_their_own_action(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    assigned = await people.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/assign", json={"assignee_id": people.staff.id}
    )
    assert assigned.status_code == 200
    await reply(people.reporter, ticket["id"], "Thanks")
    mails = await deliver(quiet)
    assert [mail.to_address for mail in mails] == ["sam@campus.test"], "the reply, not the take"


async def test_people_who_turned_mail_off_get_none(quiet, people):
    people.reporter.user.email_notifications = "off"
    await people.reporter.user.save()
    ticket = await create_ticket(people.reporter.client)
    await reply(people.staff, ticket["id"], "Is it the whole floor?")
    assert await deliver(quiet) == []


async def test_the_hourly_cap_holds_the_rest_back(quiet, people):
    quiet.consumers.consumers[0].settings = replace(quiet.settings, notify_per_hour=1)
    first = await create_ticket(people.reporter.client)
    second = await create_ticket(people.reporter.client, title="Printer jam")
    await reply(people.staff, first["id"], "On it")
    await reply(people.staff, second["id"], "On it too")
    mails = await deliver(quiet)
    assert len(mails) == 1
    assert await PendingNotification.filter(state="pending").count() == 1


async def test_a_digest_reader_gets_nothing_at_once_then_one_mail_for_both_tickets(quiet, people):
    people.reporter.user.email_notifications = "digest"
    await people.reporter.user.save()
    first = await create_ticket(people.reporter.client)
    second = await create_ticket(people.reporter.client, title="Printer jam")
    await reply(people.staff, first["id"], "Is it the whole floor?")
    await reply(people.staff, second["id"], "Toner is on order.")
    assert await deliver(quiet) == [], "nothing immediate"
    notifier = quiet.consumers.consumers[0]
    a_day_later = utcnow() + DIGEST_AFTER + timedelta(seconds=1)
    await notifier.tick(a_day_later)
    await notifier.tick(a_day_later + timedelta(hours=1))
    mails = await OutboxMail.all()
    assert [(mail.to_address, mail.kind, mail.ticket_id) for mail in mails] == [
        ("rita@campus.test", "digest", None)
    ]
    assert "Is it the whole floor?" in mails[0].message
    assert "Toner is on order." in mails[0].message
    assert await PendingNotification.filter(state="pending").count() == 0


async def test_a_reporters_mail_quotes_the_public_replies_and_never_an_internal_note(quiet, people):
    ticket = await create_ticket(people.reporter.client)
    await reply(people.staff, ticket["id"], "Reporter sounds annoyed", internal=True)
    await reply(people.staff, ticket["id"], "A technician is on the way.")
    mails = await deliver(quiet)
    assert [mail.to_address for mail in mails] == ["rita@campus.test"]
    assert "A technician is on the way." in mails[0].message
    assert "annoyed" not in mails[0].message
