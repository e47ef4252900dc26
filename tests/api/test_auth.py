"""Accounts over the API: register, login, logout, me, sessions and the login rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpdesk.models import AuthSession, Role, User, utcnow
from tests.conftest import PASSWORD, make_user


async def test_register_creates_a_reporter_and_signs_in(app):
    client = app.test_client()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "username": "Maya.K",
            "password": "heater-broken-214",
            "display_name": "Maya K",
            "email": "maya@campus.example",
        },
    )
    assert response.status_code == 201
    body = await response.get_json()
    assert body["user"]["username"] == "maya.k"
    assert body["user"]["role"] == "user"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = await client.get("/api/v1/me")
    assert (await me.get_json())["display_name"] == "Maya K"
    stored = await User.get(username="maya.k")
    assert stored.password_hash.startswith("$argon2")
    assert "heater-broken-214" not in stored.password_hash


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "ab", "password": "heater-broken-214"}, "username"),
        ({"username": "no spaces", "password": "heater-broken-214"}, "username"),
        ({"username": "x" * 33, "password": "heater-broken-214"}, "username"),
        ({"username": "maya", "password": "short"}, "password"),
        ({"username": "maya", "password": "maya-password-1"}, "password"),
        ({"username": "maya", "password": "password1234"}, "password"),
        ({"username": "maya", "password": "heater-broken-214", "email": "not-an-email"}, "email"),
        ({"username": "maya", "password": "heater-broken-214", "display_name": ""}, "display_name"),
        ({"username": "maya", "password": "heater-broken-214", "role": "admin"}, "role"),
        ({"password": "heater-broken-214"}, "username"),
    ],
)
async def test_register_refuses_bad_fields_by_name(app, payload, field):
    response = await app.test_client().post("/api/v1/auth/register", json=payload)
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["field"] == field
    assert error["detail"]
    assert await User.all().count() == 0


async def test_register_refuses_a_taken_username(app):
    await make_user("maya")
    response = await app.test_client().post(
        "/api/v1/auth/register", json={"username": "maya", "password": "heater-broken-214"}
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"]["field"] == "username"


async def test_login_and_logout_end_the_session_server_side(app):
    await make_user("maya")
    client = app.test_client()
    response = await client.post(
        "/api/v1/auth/login", json={"username": "maya", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert (await response.get_json())["user"]["username"] == "maya"
    cookie = client.cookie_jar  # keep a copy of the signed cookie to replay after logout
    stolen = {c.name: c.value for c in cookie}
    assert (await client.get("/api/v1/me")).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401
    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie("localhost", name, value)
    assert (await replay.get("/api/v1/me")).status_code == 401
    assert await AuthSession.all().count() == 0


async def test_each_login_starts_a_new_session(app):
    await make_user("maya")
    client = app.test_client()
    for _ in range(2):
        await client.post("/api/v1/auth/login", json={"username": "maya", "password": PASSWORD})
    assert await AuthSession.all().count() == 1


async def test_wrong_password_and_unknown_user_are_the_same_401(app):
    await make_user("maya")
    client = app.test_client()
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": "maya", "password": "nope-nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (await wrong.get_json())["error"] == (await unknown.get_json())["error"]


async def test_deactivated_users_cannot_sign_in(app):
    await make_user("gone", is_active=False)
    response = await app.test_client().post(
        "/api/v1/auth/login", json={"username": "gone", "password": PASSWORD}
    )
    assert response.status_code == 401


async def test_login_is_limited_after_ten_failures_per_account(app):
    await make_user("maya")
    client = app.test_client()
    for _ in range(10):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "maya", "password": "wrong-wrong-wrong"}
        )
        assert response.status_code == 401
    refused = await client.post(
        "/api/v1/auth/login", json={"username": "maya", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.get_json())["error"]["code"] == "rate_limited"


async def test_login_limit_counts_failures_per_address_across_accounts(app):
    for name in ("u1", "u2", "u3"):
        await make_user(name)
    client = app.test_client()
    for attempt in range(10):
        await client.post(
            "/api/v1/auth/login",
            json={"username": f"u{attempt % 3 + 1}", "password": "wrong-wrong"},
        )
    refused = await client.post("/api/v1/auth/login", json={"username": "u1", "password": PASSWORD})
    assert refused.status_code == 429


async def test_successful_logins_do_not_use_up_the_limit(app):
    await make_user("maya")
    client = app.test_client()
    for _ in range(15):
        response = await client.post(
            "/api/v1/auth/login", json={"username": "maya", "password": PASSWORD}
        )
        assert response.status_code == 200


async def test_password_change_signs_out_other_sessions(app):
    user = await make_user("maya")
    phone, laptop = app.test_client(), app.test_client()
    for client in (phone, laptop):
        await client.post("/api/v1/auth/login", json={"username": "maya", "password": PASSWORD})
    response = await laptop.post(
        "/api/v1/me/password",
        json={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 204
    assert (await laptop.get("/api/v1/me")).status_code == 200
    assert (await phone.get("/api/v1/me")).status_code == 401
    assert user.password_hash != (await User.get(id=user.id)).password_hash


async def test_admin_creates_staff_and_deactivation_revokes_sessions(app, cast):
    response = await cast.admin.client.post(
        "/api/v1/users",
        json={
            "username": "nina",
            "password": "helpdesk-demo-2026",
            "role": "staff",
        },
    )
    assert response.status_code == 201
    assert (await response.get_json())["role"] == "staff"
    nina = await User.get(username="nina")
    assert nina.role == Role.STAFF
    response = await cast.admin.client.patch(
        f"/api/v1/users/{cast.reporter.id}", json={"is_active": False}
    )
    assert response.status_code == 200
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401


async def test_only_admins_manage_accounts(app, cast):
    for actor in (cast.staff, cast.reporter):
        response = await actor.client.post(
            "/api/v1/users",
            json={
                "username": "nina",
                "password": "helpdesk-demo-2026",
                "role": "staff",
            },
        )
        assert response.status_code == 403
        response = await actor.client.patch(
            f"/api/v1/users/{cast.other.id}", json={"is_active": False}
        )
        assert response.status_code == 403
    assert not await User.exists(username="nina")


async def test_an_expired_session_is_signed_out_and_a_live_one_is_not(app, cast):
    me = await (await cast.reporter.client.get("/api/v1/me")).get_json()
    assert me["username"] == "rita"
    session = await AuthSession.get(user_id=cast.reporter.id)

    session.expires_at = utcnow() + timedelta(seconds=30)
    await session.save(update_fields=["expires_at"])
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 200
    session.expires_at = utcnow() - timedelta(seconds=1)
    await session.save(update_fields=["expires_at"])
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401
