"""Signing in with the university account, end to end against a real OpenID Connect provider:
the test client follows the helpdesk's redirect to the provider, approves there as a person,
and brings the provider's answer back to the callback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from quart.typing import TestClientProtocol
from tortoise.backends.base.executor import EXECUTOR_CACHE

from helpdesk import create_app
from helpdesk.models import AuthSession, Role, User
from helpdesk.web.context import HelpdeskApp
from tests.conftest import PASSWORD, make_user, signed_in_client
from tests.oidc_provider import Provider, running_provider, s256

CLIENT_ID = "campus-helpdesk"
STAFF_GROUP = "helpdesk-staff"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(autouse=True)
def honest_provider(provider: Provider) -> Iterator[None]:
    yield
    provider.tampering.__init__()  # type: ignore[misc]


def oidc_settings(issuer: str, **overrides: Any) -> dict[str, Any]:
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": "client-secret",
        "oidc_staff_groups": (STAFF_GROUP, "it-support"),
        "public_url": "http://localhost",
        **overrides,
    }


@asynccontextmanager
async def served(settings: dict[str, Any]) -> AsyncIterator[HelpdeskApp]:
    """A served app with these settings, as the `app` fixture builds one."""
    EXECUTOR_CACHE.clear()
    application = create_app(settings)
    async with application.test_app():
        yield application


@pytest.fixture
def app_settings(app_settings: dict[str, Any], provider: Provider) -> dict[str, Any]:
    return {**app_settings, **oidc_settings(provider.issuer)}


def local(url: str) -> str:
    """The path and query of a URL on the helpdesk, as the test client requests it."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def start(client: TestClientProtocol, next_path: str | None = None) -> str:
    """Press the button: the provider's authorization URL the browser is sent to."""
    response = await client.get(
        "/login/oidc", query_string={"next": next_path} if next_path else {}
    )
    assert response.status_code == 302
    return response.headers["Location"]


async def sign_in_as(
    client: TestClientProtocol, provider: Provider, sub: str, next_path: str | None = None
) -> Any:
    """The whole round trip; the helpdesk's answer to the provider's redirect back."""
    back = provider.authorize(await start(client, next_path), sub)
    return await client.get(local(back))


def person(provider: Provider, sub: str, *groups: str, **claims: Any) -> None:
    """What the provider says about `sub`: these claims over plain defaults."""
    defaults = {
        "preferred_username": sub,
        "name": sub.title(),
        "email": f"{sub}@campus.example",
        "email_verified": True,
        "groups": list(groups),
    }
    provider.set_user(sub, **{**defaults, **claims})


async def me(client: TestClientProtocol) -> dict[str, Any]:
    response = await client.get("/api/v1/me")
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()


async def refusal(response: Any) -> str:
    """The sign-in page's message after a refused sign-in."""
    assert response.status_code in (400, 403, 503), response.status_code
    page = await response.get_data(as_text=True)
    assert "Traceback" not in page
    assert 'role="alert"' in page
    assert "Sign in with your university account" in page
    return page


async def test_the_login_page_offers_the_university_account_beside_the_password(app):
    page = await (await app.test_client().get("/login?next=/tickets/new")).get_data(as_text=True)
    assert "Sign in with your university account" in page
    assert 'href="/login/oidc?next=/tickets/new"' in page
    assert 'name="password"' in page


async def test_the_redirect_asks_for_the_code_with_pkce_state_and_nonce(app, provider):
    client = app.test_client()
    location = await start(client)
    assert location.startswith(f"{provider.issuer}/oauth2/authorize?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert set(query["scope"].split()) >= {"openid", "profile", "email"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    cookie = next(c for c in client.cookie_jar if c.name == "helpdesk_oidc_flow")
    assert cookie.path == "/login/oidc"
    assert query["state"] not in cookie.value, "the state is signed in the cookie, not readable"


async def test_first_sign_in_makes_the_account_and_a_fresh_session(app, provider):
    person(provider, "maya-first", preferred_username="Maya.K@campus.example", name="Maya K")
    client = app.test_client()
    response = await sign_in_as(client, provider, "maya-first", next_path="/tickets/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets/new"
    user = await User.get(oidc_subject="maya-first")
    assert (user.username, user.display_name, user.email) == (
        "maya.k",
        "Maya K",
        "maya-first@campus.example",
    )
    assert user.oidc_issuer == provider.issuer
    assert user.role == Role.USER
    assert (await me(client))["username"] == "maya.k"
    assert await AuthSession.filter(user=user).count() == 1


async def test_the_token_request_proves_the_code_challenge(app, provider):
    person(provider, "pkce-person")
    client = app.test_client()
    authorization = await start(client)
    challenge = parse_qs(urlsplit(authorization).query)["code_challenge"][0]
    await client.get(local(provider.authorize(authorization, "pkce-person")))
    assert s256(provider.tampering.token_requests[-1]["code_verifier"]) == challenge


async def test_the_next_sign_in_finds_the_same_account_by_subject_not_email(app, provider):
    person(provider, "lin-sub", preferred_username="lin")
    await sign_in_as(app.test_client(), provider, "lin-sub")
    provider.set_user("lin-sub", preferred_username="lin.new", email="other@campus.example")
    client = app.test_client()
    await sign_in_as(client, provider, "lin-sub")
    assert (await me(client))["username"] == "lin"
    assert await User.filter(oidc_subject="lin-sub").count() == 1


async def test_a_local_account_with_the_same_email_is_never_taken_over(app, provider):
    local_user = await make_user("kim")
    local_user.email = "kim-sub@campus.example"
    await local_user.save()
    person(provider, "kim-sub", preferred_username="kim")
    client = app.test_client()
    await sign_in_as(client, provider, "kim-sub")
    signed_in = await me(client)
    assert signed_in["id"] != local_user.id
    assert signed_in["username"] == "kim-2"


async def test_an_unverified_email_is_not_kept(app, provider):
    person(provider, "unverified", email_verified=False)
    await sign_in_as(app.test_client(), provider, "unverified")
    assert (await User.get(oidc_subject="unverified")).email is None


async def test_a_staff_group_makes_staff_and_losing_it_takes_staff_away(app, provider):
    person(provider, "sam-sub", STAFF_GROUP, "students", preferred_username="sam.staff")
    client = app.test_client()
    await sign_in_as(client, provider, "sam-sub")
    assert (await me(client))["role"] == "staff"
    assert (await client.get("/api/v1/tickets?scope=board")).status_code != 403

    person(provider, "sam-sub", "students", preferred_username="sam.staff")
    again = app.test_client()
    await sign_in_as(again, provider, "sam-sub")
    assert (await me(again))["role"] == "user"
    assert (await me(client))["role"] == "user", "the older session lost staff access too"


async def test_an_admin_stays_admin_whatever_the_groups(app, provider):
    admin = await make_user("ada.admin", Role.ADMIN)
    admin.oidc_issuer, admin.oidc_subject = provider.issuer, "ada-sub"
    await admin.save()
    person(provider, "ada-sub")
    client = app.test_client()
    await sign_in_as(client, provider, "ada-sub")
    assert (await me(client))["role"] == "admin"


async def test_a_deactivated_account_cannot_sign_in(app, provider):
    person(provider, "gone-sub")
    await sign_in_as(app.test_client(), provider, "gone-sub")
    await User.filter(oidc_subject="gone-sub").update(is_active=False)
    client = app.test_client()
    page = await refusal(await sign_in_as(client, provider, "gone-sub"))
    assert "deactivated" in page
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_signing_in_ends_the_session_this_browser_had(app, provider):
    before = await make_user("shared")
    client = await signed_in_client(app, before)
    assert (await me(client))["username"] == "shared"
    person(provider, "after-sub")
    await sign_in_as(client, provider, "after-sub")
    assert await AuthSession.filter(user=before).count() == 0
    assert (await me(client))["username"] == "after-sub"


async def test_a_wrong_state_is_refused(app, provider):
    person(provider, "state-sub")
    client = app.test_client()
    back = provider.authorize(await start(client), "state-sub", state="forged-state")
    page = await refusal(await client.get(local(back)))
    assert "does not belong to this browser" in page
    assert not await User.exists(oidc_subject="state-sub")


async def test_an_answer_without_this_browsers_flow_is_refused(app, provider):
    person(provider, "victim-sub")
    back = provider.authorize(await start(app.test_client()), "victim-sub")
    page = await refusal(await app.test_client().get(local(back)))
    assert "not started here" in page
    assert not await User.exists(oidc_subject="victim-sub")


async def test_a_wrong_nonce_is_refused(app, provider):
    person(provider, "nonce-sub")
    client = app.test_client()
    back = provider.authorize(await start(client), "nonce-sub", nonce="replayed-nonce")
    await refusal(await client.get(local(back)))
    assert not await User.exists(oidc_subject="nonce-sub")


async def test_an_id_token_from_another_issuer_is_refused(app, provider):
    person(provider, "issuer-sub")
    provider.tampering.issuer_host = provider.issuer.replace("http://127.0.0.1", "localhost")
    client = app.test_client()
    page = await refusal(await sign_in_as(client, provider, "issuer-sub"))
    assert "did not hold up" in page
    assert not await User.exists(oidc_subject="issuer-sub")


async def test_an_id_token_for_another_client_is_refused(app, provider):
    person(provider, "audience-sub")
    provider.tampering.as_client = "another-app"
    client = app.test_client()
    authorization = await start(client)
    back = provider.authorize(authorization, "audience-sub", client_id="another-app")
    page = await refusal(await client.get(local(back)))
    assert "did not hold up" in page
    assert not await User.exists(oidc_subject="audience-sub")


async def test_an_id_token_with_a_spoiled_signature_is_refused(app, provider):
    person(provider, "signature-sub")
    provider.tampering.break_signature = True
    await refusal(await sign_in_as(app.test_client(), provider, "signature-sub"))
    assert not await User.exists(oidc_subject="signature-sub")


async def test_a_refusal_at_the_provider_lands_on_the_login_page(app, provider):
    client = app.test_client()
    page = await refusal(await client.get(local(provider.deny(await start(client)))))
    assert "cancelled" in page


async def test_a_discovery_document_naming_another_issuer_is_refused(app_settings, provider):
    settings = {**app_settings, "oidc_issuer": provider.issuer + "/"}
    async with served(settings) as app:
        page = await refusal(await app.test_client().get("/login/oidc"))
        assert "another issuer" in page


async def test_an_unreachable_provider_is_a_plain_message(app_settings):
    async with served({**app_settings, "oidc_issuer": "http://127.0.0.1:9"}) as app:
        response = await app.test_client().get("/login/oidc")
        assert response.status_code == 503
        assert "cannot be reached" in await refusal(response)


@pytest.mark.parametrize(("lifetime", "signs_in"), [(-30, True), (-300, False)])
async def test_an_expired_id_token_is_refused_beyond_the_clock_skew(
    app_settings, lifetime, signs_in
):
    with running_provider(token_lifetime=timedelta(seconds=lifetime)) as late:
        person(late, "late-sub")
        async with served({**app_settings, **oidc_settings(late.issuer)}) as app:
            client = app.test_client()
            response = await sign_in_as(client, late, "late-sub")
            assert (response.status_code == 302) is signs_in
            assert await User.exists(oidc_subject="late-sub") is signs_in


async def test_logout_also_ends_the_providers_session(app, provider):
    person(provider, "leaving-sub")
    client = app.test_client()
    await sign_in_as(client, provider, "leaving-sub")
    response = await client.post("/logout")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{provider.issuer}/oauth2/end_session"
    )
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"]
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_logout_of_a_password_account_stays_on_the_helpdesk(app, cast):
    response = await cast.reporter.client.post("/logout")
    assert response.headers["Location"] == "/login"


async def test_without_passwords_the_page_offers_only_the_university_account(app_settings):
    async with served({**app_settings, "password_login": False}) as app:
        client = app.test_client()
        page = await (await client.get("/login")).get_data(as_text=True)
        assert "Sign in with your university account" in page
        assert 'name="password"' not in page
        assert "Create an account" not in page
        await make_user("rita")
        form = await client.post("/login", form={"username": "rita", "password": PASSWORD})
        assert form.status_code == 403
        assert "turned off" in await form.get_data(as_text=True)


async def test_without_passwords_the_password_api_answers_403(app_settings):
    async with served({**app_settings, "password_login": False}) as app:
        client = app.test_client()
        await make_user("rita")
        login = await client.post(
            "/api/v1/auth/login", json={"username": "rita", "password": PASSWORD}
        )
        assert login.status_code == 403
        error = (await login.get_json())["error"]
        assert error["code"] == "forbidden"
        assert "university account" in error["detail"]
        register = await client.post(
            "/api/v1/auth/register", json={"username": "newbie", "password": "a-long-pass-2026"}
        )
        assert register.status_code == 403
        assert not await User.exists(username="newbie")


async def test_a_provider_gone_during_the_sign_in_is_a_plain_message(app_settings):
    with running_provider() as brief:
        person(brief, "cut-sub")
        async with served({**app_settings, **oidc_settings(brief.issuer)}) as app:
            client = app.test_client()
            back = brief.authorize(await start(client), "cut-sub")
            brief.stop()
            response = await client.get(local(back))
            assert response.status_code == 503
            assert "cannot be reached" in await refusal(response)
            assert not await User.exists(oidc_subject="cut-sub")
