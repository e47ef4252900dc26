"""Cross-site defences on every state-changing route and page: CSRF, framing, inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpdesk.models import Event, Ticket
from tests.security.test_authorization_matrix import ROUTES, callers, path_of

WRITES = sorted(key for key in ROUTES if key[0] in {"POST", "PATCH", "PUT", "DELETE"})
FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/attack.html"},
    {"Origin": "https://localhost"},
]


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    from tests.services import sqlite_copy

    return sqlite_copy(sqlite_template, tmp_path)


@pytest.mark.parametrize(("method", "rule"), WRITES, ids=str)
async def test_every_write_refuses_a_foreign_origin(app, method, rule):
    route = ROUTES[(method, rule)]
    for headers in FOREIGN:
        cast = await callers(app, with_attachment="{attachment}" in route.path)
        # The most privileged caller: a refusal here is the CSRF check, not authorization.
        client = cast["clients"]["admin"]
        before = (await Ticket.all().count(), await Event.all().count())
        path = path_of(route, cast)
        options = {"json": route.body()} if route.body else {}
        if route.form is not None:
            options["form"] = route.form()
        response = await client.open(path, method=method, headers=headers, **options)
        assert response.status_code == 403, (headers, await response.get_data(as_text=True))
        assert (await Ticket.all().count(), await Event.all().count()) == before
        assert (await client.get("/api/v1/me")).status_code == 200, "still signed in"


PAGES = [
    "/login",
    "/register",
    "/",
    "/tickets/new",
    "/tickets/{ticket}",
    "/board",
    "/analytics",
    "/analytics/report",
    "/account/password",
    "/account/notifications",
    "/docs",
    "/known-issues",
]


@pytest.mark.parametrize("page", PAGES)
async def test_pages_carry_no_inline_script_or_style_and_cannot_be_framed(app, page):
    cast = await callers(app)
    viewer = {
        "/login": "anonymous",
        "/register": "anonymous",
        "/": "reporter",
        "/tickets/{ticket}": "reporter",
    }.get(page, "staff")
    client = cast["clients"][viewer]
    response = await client.get(page.format(ticket=cast["ticket"]))
    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    # A JSON data block (the page's texts for the scripts) is never run; it must not be able to
    # end its element early, so `<` in it is escaped.
    data_blocks = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
    assert all("<" not in block for block in data_blocks), "markup in a JSON data block"
    code = re.sub(r'<script type="application/json"[^>]*>.*?</script>', "", html, flags=re.S)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", code), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style"
    assert "javascript:" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "asset from another host"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_scripts_never_put_data_into_html():
    """User text reaches the DOM through textContent only."""
    for script in Path("static/js").glob("*.js"):
        code = [
            line for line in script.read_text().splitlines() if not line.lstrip().startswith("//")
        ]
        source = "\n".join(code)
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"
