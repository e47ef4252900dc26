"""A real server and Debian's chromium driven by Playwright; every page is watched for console
errors and for requests to any other host, either of which fails the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, sync_playwright

from helpdesk.models import Role
from tests.conftest import PASSWORD, REQUIRE_SERVICES
from tests.live.server import LiveServer, prepare_database, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ACCOUNTS = {
    "alice": Role.USER,
    "ben": Role.USER,
    "carla": Role.USER,
    "dmitri": Role.USER,
    "sam": Role.STAFF,
    "priya": Role.STAFF,
}
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API keeps an event loop on this thread while it runs, which
    the asyncio tests of later modules need to be free."""
    if not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed; .ci/run installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("browser")
    env = server_env(root)
    prepare_database(env, ACCOUNTS)
    server = LiveServer(root, env).start()
    yield server
    server.stop()


@dataclass
class Watch:
    """What a page did that it should not: console errors, script errors, foreign requests."""

    origin: str
    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def expect_status(self, status: int) -> None:
        """The test provokes this HTTP error on purpose; Chrome logs such responses as errors."""
        self.expected_statuses.add(status)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if any(f"status of {status}" in message.text for status in self.expected_statuses):
            return
        self.problems.append(f"console error: {message.text}")

    def attach(self, context: BrowserContext, page: Page, *, block: bool = True) -> None:
        """`block=False` reports foreign requests without stopping them: Playwright's routing
        turns the browser's HTTP cache off, which a test of caching needs on."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("websocket", lambda ws: self._check(ws.url))
        if block:
            context.route("**/*", self._route)
        else:
            page.on("request", lambda request: self._check(request.url))

    def _check(self, url: str) -> bool:
        host = urlsplit(url).netloc
        if host != urlsplit(self.origin).netloc:
            self.problems.append(f"request to another host: {url}")
            return False
        return True

    def _route(self, route) -> None:
        if self._check(route.request.url):
            route.continue_()
        else:
            route.abort()


class SocketSwitch:
    """Cuts a page's WebSocket (as a lost connection would) and lets it back when restored."""

    def __init__(self, *, intercept: bool = False) -> None:
        self.cut = False
        self.routes: list[WebSocketRoute] = []
        self.intercept = intercept
        # With `intercept`: server frames for which this says True never reach the page, as
        # if they were still on their way when the connection dropped.
        self.hold_back: Callable[[str], bool] | None = None

    def handle(self, ws: WebSocketRoute) -> None:
        if self.cut:
            ws.close(code=4000, reason="network down")
            return
        server = ws.connect_to_server()
        if self.intercept:
            server.on_message(lambda message: self._from_server(ws, message))
        self.routes.append(ws)

    def _from_server(self, ws: WebSocketRoute, message: str | bytes) -> None:
        if self.hold_back is not None and isinstance(message, str) and self.hold_back(message):
            return
        ws.send(message)

    def drop(self) -> None:
        self.cut = True
        for ws in self.routes:
            ws.close(code=4000, reason="network down")
        self.routes.clear()

    def restore(self, page: Page) -> None:
        self.cut = False
        page.evaluate("window.dispatchEvent(new Event('online'))")


@dataclass
class Session:
    page: Page
    context: BrowserContext
    switch: SocketSwitch
    watch: Watch


@pytest.fixture
def open_session(browser: Browser, live: LiveServer) -> Iterator:
    """Sign someone in through the form in a fresh browser context."""
    opened: list[Session] = []

    def open_as(
        username: str, *, phone: bool = False, intercept: bool = False, http_cache: bool = False
    ) -> Session:
        options = (
            {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": {"width": 1280, "height": 900}}
        )
        context = browser.new_context(base_url=live.url, **options)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watch = Watch(live.url)
        watch.attach(context, page, block=not http_cache)
        switch = SocketSwitch(intercept=intercept)
        page.route_web_socket("**/ws", switch.handle)
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        session = Session(page, context, switch, watch)
        opened.append(session)
        return session

    yield open_as
    problems = [problem for session in opened for problem in session.watch.problems]
    for session in opened:
        session.context.close()
    assert not problems, "\n".join(problems)
