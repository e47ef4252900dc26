"""The admin's view of mail that did not go out: failed and uncertain rows, sent again only
when that cannot deliver a mail twice."""

from __future__ import annotations

import pytest

from helpdesk.models import MailState, OutboxMail
from tests.mail.test_sender import queued


@pytest.fixture
async def troubles(quiet, cast) -> dict[str, OutboxMail]:
    """One mail in each state that matters here."""
    rows = {}
    for state, error in (
        (MailState.FAILED, "550 5.1.1 no such mailbox"),
        (MailState.UNCERTAIN, "the sending process stopped before it knew"),
        (MailState.SENT, None),
    ):
        row = await queued(cast)
        await OutboxMail.filter(id=row.id).update(state=state, attempts=1, last_error=error)
        rows[state.value] = row
    return rows


async def state_of(row: OutboxMail) -> MailState:
    return (await OutboxMail.get(id=row.id)).state


async def test_the_api_lists_failed_and_uncertain_mail_newest_first(cast, troubles):
    response = await cast.admin.client.get("/api/v1/admin/mail")
    assert response.status_code == 200
    items = (await response.get_json())["items"]
    assert [(item["id"], item["state"]) for item in items] == [
        (troubles["uncertain"].id, "uncertain"),
        (troubles["failed"].id, "failed"),
    ]
    failed = items[1]
    assert (failed["to"], failed["subject"], failed["attempts"]) == (
        "rita@campus.test",
        "[#1] No wifi",
        1,
    )
    assert failed["last_error"] == "550 5.1.1 no such mailbox" and failed["created_at"]


async def test_the_api_filters_by_state_and_names_a_bad_one(cast, troubles):
    only = await cast.admin.client.get("/api/v1/admin/mail?state=failed")
    assert [item["id"] for item in (await only.get_json())["items"]] == [troubles["failed"].id]
    bad = await cast.admin.client.get("/api/v1/admin/mail?state=sent")
    assert bad.status_code == 400
    assert (await bad.get_json())["error"]["field"] == "state"


async def test_a_failed_mail_sent_again_is_pending(cast, troubles):
    response = await cast.admin.client.post(
        f"/api/v1/admin/mail/{troubles['failed'].id}/retry", json={}
    )
    assert response.status_code == 200
    assert (await response.get_json())["state"] == "pending"
    assert await state_of(troubles["failed"]) == MailState.PENDING


async def test_an_uncertain_mail_goes_again_only_when_the_admin_says_it_did_not_arrive(
    cast, troubles
):
    path = f"/api/v1/admin/mail/{troubles['uncertain'].id}/retry"
    refused = await cast.admin.client.post(path, json={})
    assert refused.status_code == 400
    assert (await refused.get_json())["error"]["field"] == "not_delivered"
    assert await state_of(troubles["uncertain"]) == MailState.UNCERTAIN
    confirmed = await cast.admin.client.post(path, json={"not_delivered": True})
    assert confirmed.status_code == 200
    assert await state_of(troubles["uncertain"]) == MailState.PENDING


async def test_a_sent_mail_is_never_sent_again(cast, troubles):
    path = f"/api/v1/admin/mail/{troubles['sent'].id}/retry"
    response = await cast.admin.client.post(path, json={"not_delivered": True})
    assert response.status_code == 409
    assert await state_of(troubles["sent"]) == MailState.SENT


async def test_the_page_shows_the_troubled_mail_and_sends_a_failed_one_again(cast, troubles):
    page = await (await cast.admin.client.get("/admin/mail")).get_data(as_text=True)
    assert "550 5.1.1 no such mailbox" in page and "[#1] No wifi" in page
    assert f'id="mail-{troubles["sent"].id}"' not in page
    response = await cast.admin.client.post(f"/admin/mail/{troubles['failed'].id}/retry", form={})
    assert response.status_code == 302
    assert await state_of(troubles["failed"]) == MailState.PENDING
    after = await (await cast.admin.client.get(response.headers["Location"])).get_data(as_text=True)
    assert "The mail is queued again." in after
    assert f'id="mail-{troubles["failed"].id}"' not in after


async def test_the_page_asks_before_sending_an_uncertain_mail_again(cast, troubles):
    path = f"/admin/mail/{troubles['uncertain'].id}/retry"
    refused = await cast.admin.client.post(path, form={})
    assert refused.status_code == 400
    assert "confirm that it did not arrive" in await refused.get_data(as_text=True)
    assert await state_of(troubles["uncertain"]) == MailState.UNCERTAIN
    confirmed = await cast.admin.client.post(path, form={"not_delivered": "yes"})
    assert confirmed.status_code == 302
    assert await state_of(troubles["uncertain"]) == MailState.PENDING


async def test_a_cross_site_form_cannot_send_mail_again(cast, troubles):
    response = await cast.admin.client.post(
        f"/admin/mail/{troubles['failed'].id}/retry",
        form={},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert await state_of(troubles["failed"]) == MailState.FAILED


async def test_only_admins_find_the_page_in_their_menu(cast, quiet):
    admin = await (await cast.admin.client.get("/board")).get_data(as_text=True)
    staff = await (await cast.staff.client.get("/board")).get_data(as_text=True)
    assert 'href="/admin/mail"' in admin
    assert 'href="/admin/mail"' not in staff
