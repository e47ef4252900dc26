"""University sign-in in a real browser: the button on /login, the provider's page, and back to
the dashboard, with the server started with OpenID Connect set up and passwords turned off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.live.server import LiveServer, prepare_database, server_env
from tests.oidc_provider import Provider, running_provider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def university_live(tmp_path_factory, provider: Provider) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("university")
    env = server_env(
        root,
        oidc_issuer=provider.issuer,
        oidc_client_id="campus-helpdesk",
        oidc_client_secret="client-secret",
        oidc_staff_groups="helpdesk-staff",
        password_login="false",
    )
    prepare_database(env, {})
    server = LiveServer(root, env)
    server.env["HELPDESK_PUBLIC_URL"] = server.url
    server.start()
    yield server
    server.stop()


def only_the_two_sites(page: Page, *urls: str) -> list[str]:
    """Requests anywhere else (the provider page's stylesheet on a CDN) are stopped and noted;
    script errors on the helpdesk are noted too."""
    allowed = {urlsplit(url).netloc for url in urls}
    elsewhere: list[str] = []

    def route(request_route: Route) -> None:
        if urlsplit(request_route.request.url).netloc in allowed:
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


def test_the_university_button_signs_in_and_lands_on_the_dashboard(
    browser: Browser, university_live: LiveServer, provider: Provider
):
    provider.set_user(
        "noor-sub",
        preferred_username="noor",
        name="Noor Haddad",
        email="noor@campus.example",
        email_verified=True,
        groups=["students"],
    )
    context = browser.new_context(base_url=university_live.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = only_the_two_sites(page, university_live.url, provider.issuer)
    try:
        page.goto("/login")
        expect(page.get_by_label("Password")).to_have_count(0)
        page.get_by_role("link", name="Sign in with your university account").click()
        page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/oauth2/authorize\?"))
        page.get_by_placeholder("sub").fill("noor-sub")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{university_live.url}/")
        expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
        expect(page.get_by_text("Noor Haddad")).to_be_visible()
        assert not problems, "\n".join(problems)
    finally:
        context.close()
