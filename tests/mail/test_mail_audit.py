"""A mail an admin sends again is in the audit log, with the mail and its recipient."""

from __future__ import annotations

from helpdesk.models import AuditEntry, MailState, OutboxMail
from tests.mail.test_sender import queued


async def test_sending_a_failed_mail_again_is_audited(quiet, cast):
    row = await queued(cast)
    await OutboxMail.filter(id=row.id).update(state=MailState.FAILED, attempts=1)
    response = await cast.admin.client.post(f"/api/v1/admin/mail/{row.id}/retry", json={})
    assert response.status_code == 200, await response.get_data(as_text=True)
    entry = await AuditEntry.get(action="mail.sent_again")
    assert entry.actor_id == cast.admin.id
    assert entry.target_id == cast.reporter.id
    assert entry.details == {"mail_id": row.id, "was": "failed"}


async def test_a_refused_resend_leaves_no_entry(quiet, cast):
    row = await queued(cast)
    response = await cast.admin.client.post(f"/api/v1/admin/mail/{row.id}/retry", json={})
    assert response.status_code == 409
    assert await AuditEntry.all().count() == 0
