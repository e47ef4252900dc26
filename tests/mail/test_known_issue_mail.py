"""Known issues by mail: everyone affected hears the news, in public words only, per their
choice (immediate, digest, off)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.models import OutboxMail, utcnow
from tests.conftest import create_ticket, json_of

PRIVATE = "Rita in room 214 broke the router with her kettle"


@pytest.fixture
async def people(quiet, cast):
    for actor in (cast.reporter, cast.other, cast.staff):
        actor.user.email = f"{actor.user.username}@campus.test"
        await actor.user.save()
    return cast


async def run_consumers(app, *, days: float = 0) -> list[OutboxMail]:
    """Everything the consumers would do: the log read, the fan-out told, the delay over."""
    runner = app.consumers
    await runner.round()
    await runner.round()  # the news told by the fan-out, then noted for mail
    later = utcnow() + timedelta(seconds=app.settings.notify_delay_seconds + 1, days=days)
    for chore in runner.work:
        await chore.tick(later)
    return list(await OutboxMail.all().order_by("id").prefetch_related("recipient"))


async def outage_followed_by_oscar(cast) -> tuple[dict, dict]:
    ticket = await create_ticket(
        cast.reporter.client, title="Router dead", description=PRIVATE, location="Library, 2nd"
    )
    published = await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/known-issue", json={"public_title": "Library wifi outage"}
    )
    issue = await json_of(published)
    affected = await cast.other.client.post(f"/api/v1/known-issues/{issue['id']}/affected")
    assert affected.status_code == 201
    return ticket, issue


async def test_an_update_reaches_the_affected_by_mail_in_public_words(quiet, people):
    _, issue = await outage_followed_by_oscar(people)
    posted = await people.staff.client.post(
        f"/api/v1/known-issues/{issue['id']}/updates", json={"body": "Fixed by 3 pm today"}
    )
    assert posted.status_code == 201
    mails = await run_consumers(quiet)
    to_oscar = [mail for mail in mails if mail.to_address == "oscar@campus.test"]
    assert len(to_oscar) == 1
    text = to_oscar[0].message
    assert "Subject: [Known issue] Library wifi outage" in text
    assert "Fixed by 3 pm today" in text
    assert f"/known-issues/{issue['id']}" in text
    for private in (PRIVATE, "Router dead", "Rita", "reply+"):
        assert private not in text
    assert len(await run_consumers(quiet)) == len(mails), "nothing twice"


async def test_the_affected_hear_by_mail_when_it_is_fixed(quiet, people):
    ticket, _ = await outage_followed_by_oscar(people)
    for status in ("active", "closed"):
        await people.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
    mails = [mail for mail in await run_consumers(quiet) if mail.to_address == "oscar@campus.test"]
    assert len(mails) == 1
    assert "It is now: fixed" in mails[0].message
    assert PRIVATE not in mails[0].message


@pytest.mark.parametrize(("choice", "mailed"), [("off", False), ("digest", True)])
async def test_the_news_follows_each_persons_choice(quiet, people, choice, mailed):
    _, issue = await outage_followed_by_oscar(people)
    response = await people.other.client.put("/api/v1/me/notifications", json={"email": choice})
    assert response.status_code == 200
    await people.staff.client.post(
        f"/api/v1/known-issues/{issue['id']}/updates", json={"body": "Parts ordered"}
    )
    mails = await run_consumers(quiet, days=2)
    to_oscar = [mail for mail in mails if mail.to_address == "oscar@campus.test"]
    assert bool(to_oscar) == mailed
    if mailed:
        assert "Known issue" in to_oscar[0].message and "Parts ordered" in to_oscar[0].message
        assert PRIVATE not in to_oscar[0].message
