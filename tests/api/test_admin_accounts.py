"""Admins find accounts, change roles, deactivate and reactivate them; every change is in the
audit log, written with it; nobody demotes or deactivates themselves, and one admin remains."""

from __future__ import annotations

import asyncio

from quart.testing.connections import WebsocketDisconnectError

from helpdesk.domain.audit import Actor
from helpdesk.domain.users import change_role
from helpdesk.errors import Conflict
from helpdesk.live.connection import CloseCode
from helpdesk.models import AuditEntry, Role, User
from tests.conftest import make_user, signed_in_client
from tests.live.helpers import FrameReader


async def users_of(client, **query) -> dict:
    response = await client.get("/api/v1/users", query_string=query)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


def usernames(page: dict) -> list[str]:
    return [item["username"] for item in page["items"]]


async def test_the_users_list_finds_by_username_display_name_or_email(cast):
    await make_user("maya.k", display_name="Maya Kowalski")
    await User.filter(username="maya.k").update(email="maya@campus.test")
    await make_user("tom", display_name="Tom Berg")
    admin = cast.admin.client
    assert usernames(await users_of(admin, q="maya.")) == ["maya.k"]
    assert usernames(await users_of(admin, q="KOWAL")) == ["maya.k"]
    assert usernames(await users_of(admin, q="@campus.test")) == ["maya.k"]
    assert usernames(await users_of(admin, q="%")) == []
    assert usernames(await users_of(admin, role="staff")) == ["sam"]


async def test_the_users_list_pages_newest_first_without_overlap(cast):
    everyone = usernames(await users_of(cast.admin.client, limit=100))
    assert everyone == ["ada", "sam", "oscar", "rita"]
    first = await users_of(cast.admin.client, limit=3)
    assert usernames(first) == everyone[:3]
    rest = await users_of(cast.admin.client, limit=3, cursor=first["next_cursor"])
    assert usernames(rest) == everyone[3:]
    assert rest["next_cursor"] is None


async def test_the_users_list_never_shows_a_password_hash(cast):
    page = await users_of(cast.admin.client)
    assert all("password_hash" not in item for item in page["items"])
    assert "$argon2" not in str(page)
    assert page["items"][-1]["is_active"] is True


async def test_a_bad_users_query_is_a_plain_400(cast):
    response = await cast.admin.client.get("/api/v1/users", query_string={"role": "boss"})
    assert response.status_code == 400
    response = await cast.admin.client.get("/api/v1/users", query_string={"cursor": "x"})
    assert response.status_code == 400


async def test_a_role_change_is_audited_with_who_and_from_where(cast):
    response = await cast.admin.client.patch(
        f"/api/v1/users/{cast.reporter.id}",
        json={"role": "staff"},
        scope_base={"client": ("203.0.113.9", 50123)},
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["role"] == "staff"
    assert (await User.get(id=cast.reporter.id)).role == Role.STAFF
    entry = await AuditEntry.get(target_id=cast.reporter.id)
    assert entry.action == "account.role_changed"
    assert entry.actor_id == cast.admin.id
    assert entry.details == {"from": "user", "to": "staff"}
    assert entry.client_address == "203.0.113.9"


async def test_setting_the_same_role_again_logs_nothing(cast):
    response = await cast.admin.client.patch(
        f"/api/v1/users/{cast.staff.id}", json={"role": "staff"}
    )
    assert response.status_code == 200
    assert await AuditEntry.all().count() == 0


async def test_an_admin_cannot_remove_their_own_admin_role(cast):
    response = await cast.admin.client.patch(
        f"/api/v1/users/{cast.admin.id}", json={"role": "staff"}
    )
    assert response.status_code == 400
    assert "your own admin role" in (await response.get_json())["error"]["detail"]
    assert (await User.get(id=cast.admin.id)).role == Role.ADMIN
    assert await AuditEntry.all().count() == 0


async def test_an_admin_cannot_deactivate_themselves(cast):
    response = await cast.admin.client.patch(
        f"/api/v1/users/{cast.admin.id}", json={"is_active": False}
    )
    assert response.status_code == 400
    assert (await User.get(id=cast.admin.id)).is_active


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(cast):
    """Each sees two admins before it writes; the lock on the admins' rows makes one wait."""
    other = await make_user("grace", Role.ADMIN)
    ada = await User.get(id=cast.admin.id)
    results = await asyncio.gather(
        change_role(Actor(ada), other.id, Role.STAFF),
        change_role(Actor(other), ada.id, Role.STAFF),
        return_exceptions=True,
    )
    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict), results
    assert "last admin" in refused[0].detail
    assert await User.filter(role=Role.ADMIN, is_active=True).count() == 1
    assert await AuditEntry.all().count() == 1


async def test_a_patch_with_nothing_to_change_is_refused(cast):
    response = await cast.admin.client.patch(f"/api/v1/users/{cast.reporter.id}", json={})
    assert response.status_code == 400
    assert "role, is_active or both" in str(await response.get_json())


async def test_deactivating_and_reactivating_are_audited(cast):
    path = f"/api/v1/users/{cast.reporter.id}"
    assert (await cast.admin.client.patch(path, json={"is_active": False})).status_code == 200
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401
    assert (await cast.admin.client.patch(path, json={"is_active": True})).status_code == 200
    actions = await AuditEntry.filter(target_id=cast.reporter.id).order_by("id")
    assert [entry.action.value for entry in actions] == [
        "account.deactivated",
        "account.reactivated",
    ]


async def test_an_account_made_by_an_admin_is_audited(cast):
    response = await cast.admin.client.post(
        "/api/v1/users",
        json={"username": "newstaff", "password": "helpdesk-demo-2026", "role": "staff"},
    )
    assert response.status_code == 201
    entry = await AuditEntry.get(action="account.created")
    assert entry.target_id == (await response.get_json())["id"]
    assert entry.details == {"role": "staff"}


async def test_the_audit_log_lists_newest_first_in_pages(cast):
    for role in ("staff", "user", "admin"):
        response = await cast.admin.client.patch(
            f"/api/v1/users/{cast.reporter.id}", json={"role": role}
        )
        assert response.status_code == 200
    first = await (await cast.admin.client.get("/api/v1/audit?limit=2")).get_json()
    assert [item["details"]["to"] for item in first["items"]] == ["admin", "user"]
    assert first["items"][0]["actor"]["username"] == "ada"
    assert first["items"][0]["target"]["username"] == "rita"
    rest = await (
        await cast.admin.client.get(f"/api/v1/audit?limit=2&cursor={first['next_cursor']}")
    ).get_json()
    assert [item["details"]["to"] for item in rest["items"]] == ["staff"]
    assert rest["next_cursor"] is None


async def test_a_role_change_closes_the_persons_sockets_to_reconnect_with_it(app, cast):
    async with cast.reporter.client.websocket("/ws") as socket:
        reader = FrameReader(socket)
        await reader.send({"op": "ping"})
        await reader.until("pong")
        response = await cast.admin.client.patch(
            f"/api/v1/users/{cast.reporter.id}", json={"role": "staff"}
        )
        assert response.status_code == 200
        closed = await reader.until_closed()
    assert isinstance(closed, WebsocketDisconnectError)
    assert closed.args[0] == CloseCode.SIGNED_OUT
    me = await cast.reporter.client.get("/api/v1/me")
    assert (await me.get_json())["role"] == "staff"
    promoted = await signed_in_client(app, await User.get(id=cast.reporter.id))
    async with promoted.websocket("/ws") as socket:
        _, joined = await FrameReader(socket).join("board")
    assert joined["type"] == "joined"
