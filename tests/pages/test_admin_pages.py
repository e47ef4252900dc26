"""The admin's pages under /admin/: find accounts, create one, change a role, deactivate with
a confirmation, the audit log, and the settings without a single secret. Plain forms, no
scripts needed."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.config import load_settings
from helpdesk.models import AuditEntry, OutboxMail, Role, User
from helpdesk.pages.deployment import production_gaps, shown_settings
from tests.conftest import make_user, settings_for

SECRET_KEY = "k3y-that-signs-every-cookie-" + "x" * 8
SMTP_PASSWORD = "relay-pa55word-never-shown"
OIDC_SECRET = "client-secret-never-shown"


async def text_of(response) -> str:
    return await response.get_data(as_text=True)


async def test_an_admin_lands_on_the_accounts_and_staff_on_the_board(cast):
    admin_home = await cast.admin.client.get("/")
    assert admin_home.status_code == 302
    assert admin_home.headers["Location"] == "/admin/"
    assert (await cast.staff.client.get("/")).headers["Location"] == "/board"
    page = await text_of(await cast.admin.client.get("/admin/"))
    assert 'href="/board"' in page, "the board stays one click away"


async def test_the_accounts_page_finds_by_email_and_filters_by_role(cast):
    await make_user("maya.k", display_name="Maya Kowalski")
    await User.filter(username="maya.k").update(email="maya@campus.test")
    found = await text_of(await cast.admin.client.get("/admin/?q=maya%40campus"))
    assert "Maya Kowalski" in found and "Rita" not in found
    staff = await text_of(await cast.admin.client.get("/admin/?role=staff"))
    assert ">Sam<" in staff and ">Rita<" not in staff


async def test_the_accounts_page_has_pages(cast):
    for n in range(3):
        await make_user(f"student{n}")
    first = await text_of(await cast.admin.client.get("/admin/?q=student&limit=2"))
    assert "Student2" in first and "Student1" in first and "Student0" not in first
    assert 'rel="next"' in first
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    rest = await text_of(await cast.admin.client.get(link.replace("&amp;", "&")))
    assert "Student0" in rest and "Student1" not in rest and 'rel="next"' not in rest


async def test_a_bad_search_says_so_and_shows_everyone(cast):
    response = await cast.admin.client.get("/admin/?role=boss")
    assert response.status_code == 200
    assert "could not be read" in await text_of(response)


async def test_creating_an_account_from_the_form(cast):
    response = await cast.admin.client.post(
        "/admin/users/new",
        form={
            "username": "Lena.S",
            "display_name": "Lena S",
            "password": "tulip-harbour-88",
            "role": "staff",
        },
    )
    assert response.status_code == 302
    made = await User.get(username="lena.s")
    assert made.role == Role.STAFF
    page = await text_of(await cast.admin.client.get(response.headers["Location"]))
    assert "The account lena.s is made" in page
    assert "made the staff account Lena S (lena.s)" in page


async def test_a_weak_first_password_is_shown_beside_the_field_and_makes_nothing(cast):
    response = await cast.admin.client.post(
        "/admin/users/new", form={"username": "lena", "password": "short", "role": "staff"}
    )
    assert response.status_code == 400
    page = await text_of(response)
    assert 'id="password-error"' in page and "at least 10 characters" in page
    assert 'value="lena"' in page
    assert not await User.exists(username="lena")


async def test_changing_a_role_from_the_account_page(cast):
    response = await cast.admin.client.post(
        f"/admin/users/{cast.reporter.id}/role", form={"role": "staff"}
    )
    assert response.status_code == 302
    page = await text_of(await cast.admin.client.get(response.headers["Location"]))
    assert "Rita is now staff" in page
    assert "changed the role of Rita (rita) from user to staff" in page


async def test_an_admin_cannot_demote_themselves_from_the_page(cast):
    page = await text_of(await cast.admin.client.get(f"/admin/users/{cast.admin.id}"))
    assert "another admin can change its role" in page
    response = await cast.admin.client.post(
        f"/admin/users/{cast.admin.id}/role", form={"role": "user"}
    )
    assert response.status_code == 400
    assert "You cannot remove your own admin role" in await text_of(response)
    assert (await User.get(id=cast.admin.id)).role == Role.ADMIN


async def test_deactivating_needs_the_confirmation(cast):
    path = f"/admin/users/{cast.reporter.id}/active"
    response = await cast.admin.client.post(path, form={"is_active": "no"})
    assert response.status_code == 400
    assert "tick the box to confirm" in (await text_of(response)).lower()
    assert (await User.get(id=cast.reporter.id)).is_active
    response = await cast.admin.client.post(path, form={"is_active": "no", "confirm": "yes"})
    assert response.status_code == 302
    assert not (await User.get(id=cast.reporter.id)).is_active
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401
    page = await text_of(await cast.admin.client.get(response.headers["Location"]))
    assert "Rita is deactivated and signed out everywhere" in page
    again = await cast.admin.client.post(path, form={"is_active": "yes"})
    assert again.status_code == 302
    assert (await User.get(id=cast.reporter.id)).is_active


async def test_the_account_page_mails_a_password_reset_and_logs_it(cast):
    await User.filter(id=cast.reporter.id).update(email="rita@campus.test")
    response = await cast.admin.client.post(f"/admin/users/{cast.reporter.id}/password-reset")
    assert response.status_code == 302
    page = await text_of(await cast.admin.client.get(response.headers["Location"]))
    assert "A password reset link is on its way to rita@campus.test" in page
    assert "sent a password reset link to Rita (rita)" in page
    mail = await OutboxMail.get(recipient_id=cast.reporter.id)
    assert mail.kind == "password_reset"
    assert await AuditEntry.filter(action="account.password_reset_sent").count() == 1


async def test_no_reset_link_for_an_account_without_an_address(cast):
    page = await text_of(await cast.admin.client.get(f"/admin/users/{cast.reporter.id}"))
    assert "no email address, so no reset link can reach it" in page
    response = await cast.admin.client.post(f"/admin/users/{cast.reporter.id}/password-reset")
    assert response.status_code == 400
    assert "This account has no email address" in await text_of(response)
    assert await OutboxMail.all().count() == 0
    assert await AuditEntry.all().count() == 0


async def test_a_new_account_can_get_a_link_instead_of_a_password(cast):
    response = await cast.admin.client.post(
        "/admin/users/new",
        form={
            "username": "lena",
            "email": "lena@campus.test",
            "role": "staff",
            "send_reset": "yes",
        },
    )
    assert response.status_code == 302
    made = await User.get(username="lena")
    assert (await OutboxMail.get(recipient_id=made.id)).kind == "password_reset"
    page = await text_of(await cast.admin.client.get(response.headers["Location"]))
    assert "a link to choose a password is on its way to lena@campus.test" in page
    actions = (
        await AuditEntry.filter(target_id=made.id).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["account.created", "account.password_reset_sent"]


async def test_a_link_instead_of_a_password_needs_an_address(cast):
    response = await cast.admin.client.post(
        "/admin/users/new", form={"username": "lena", "role": "staff", "send_reset": "yes"}
    )
    assert response.status_code == 400
    assert "Enter the address the link goes to" in await text_of(response)
    assert not await User.exists(username="lena")


async def test_a_cross_site_form_cannot_change_an_account(cast):
    response = await cast.admin.client.post(
        f"/admin/users/{cast.reporter.id}/role",
        form={"role": "admin"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert (await User.get(id=cast.reporter.id)).role == Role.USER
    assert await AuditEntry.all().count() == 0


async def test_the_audit_page_lists_every_action_newest_first(cast):
    await cast.admin.client.post(f"/admin/users/{cast.reporter.id}/role", form={"role": "staff"})
    await cast.admin.client.post(
        f"/admin/users/{cast.other.id}/active", form={"is_active": "no", "confirm": "yes"}
    )
    page = await text_of(await cast.admin.client.get("/admin/audit"))
    deactivated = page.index("deactivated Oscar (oscar)")
    promoted = page.index("changed the role of Rita (rita) from user to staff")
    assert deactivated < promoted
    assert "Ada (ada)" in page


@pytest.fixture
def app_settings(tmp_path, database_url) -> dict[str, Any]:
    return settings_for(
        tmp_path,
        database_url=database_url,
        secret_key=SECRET_KEY,
        smtp_url=f"smtp+starttls://helpdesk:{SMTP_PASSWORD}@relay.campus.test:587",
        oidc_issuer="https://login.campus.test/realms/campus",
        oidc_client_id="helpdesk",
        oidc_client_secret=OIDC_SECRET,
    )


async def test_the_settings_page_shows_no_secret(cast):
    response = await cast.admin.client.get("/admin/settings")
    assert response.status_code == 200
    page = await text_of(response)
    for secret in (SECRET_KEY, SMTP_PASSWORD, OIDC_SECRET):
        assert secret not in page
    assert "smtp+starttls://helpdesk:••••••@relay.campus.test:587" in page
    assert "HELPDESK_OIDC_CLIENT_SECRET" in page and "set (not shown)" in page
    assert "https://login.campus.test/realms/campus" in page


def test_a_storage_url_is_shown_without_its_secret(tmp_path):
    url = f"s3://helpdesk:{OIDC_SECRET}@campus-files?endpoint=https://s3.campus.test"
    shown = dict(shown_settings(load_settings(overrides=settings_for(tmp_path, storage_url=url))))
    assert shown["HELPDESK_STORAGE_URL"] == (
        "s3://helpdesk:••••••@campus-files?endpoint=https://s3.campus.test"
    )


async def test_the_settings_page_says_what_production_still_needs(cast):
    page = await text_of(await cast.admin.client.get("/admin/settings"))
    assert "HELPDESK_COOKIE_SECURE=true" in page
    assert "HELPDESK_PUBLIC_URL" in page
    assert "HELPDESK_BROKER_URL to redis://" in page
    assert "No mail relay" not in page, "a relay is set here"
    assert "a second host would not find them" not in page, "files on disk suit one host"


def test_files_on_disk_are_a_gap_once_there_are_several_hosts(tmp_path):
    several = settings_for(tmp_path, broker_url="redis://127.0.0.1:6379/0")
    gaps = " ".join(production_gaps(load_settings(overrides=several)))
    assert "HELPDESK_STORAGE_URL to an s3:// bucket" in gaps
    on_s3 = {**several, "storage_url": "s3://campus-files"}
    assert "STORAGE_URL" not in " ".join(production_gaps(load_settings(overrides=on_s3)))
