"""Cross-site requests, security headers, error shapes and the API description."""

from __future__ import annotations

import pytest
from quart import session

from helpdesk.models import Ticket
from tests.conftest import TICKET


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "https://localhost"},  # same host, another scheme: another origin
        {"Origin": "ws://localhost"},  # browsers send the page's origin, never ws://
        {"Origin": "http://localhost:8080"},
        {"Referer": "https://localhost/tickets/new"},
    ],
)
async def test_cross_site_writes_are_refused(app, cast, headers):
    response = await cast.reporter.client.post("/api/v1/tickets", json=TICKET, headers=headers)
    assert response.status_code == 403
    assert (await response.get_json())["error"]["code"] == "forbidden"
    assert await Ticket.all().count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},
        {"Origin": "HTTP://LOCALHOST:80"},
        {"Referer": "http://localhost/tickets/new"},
        {},
    ],
)
async def test_same_site_and_script_writes_are_judged_by_session(app, cast, headers):
    response = await cast.reporter.client.post("/api/v1/tickets", json=TICKET, headers=headers)
    assert response.status_code == 201


async def test_configured_origin_is_allowed(tmp_path):
    from helpdesk import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for(tmp_path, allowed_origins=("https://helpdesk.campus.example",)))
    async with app.test_app():
        response = await app.test_client().post(
            "/api/v1/auth/login",
            json={"username": "x", "password": "y"},
            headers={"Origin": "https://helpdesk.campus.example"},
        )
        assert response.status_code == 401  # judged on its merits, not refused as cross-site


@pytest.mark.parametrize(
    ("origin", "allowed"), [("https://localhost", True), ("http://localhost", False)]
)
async def test_behind_a_tls_proxy_the_forwarded_scheme_is_the_sites(tmp_path, origin, allowed):
    from helpdesk import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for(tmp_path, trusted_proxy_hops=1))
    async with app.test_app():
        response = await app.test_client().post(
            "/api/v1/auth/login",
            json={"username": "x", "password": "y"},
            headers={"Origin": origin, "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.2.0.1"},
        )
        assert response.status_code == (401 if allowed else 403)


@pytest.mark.parametrize("over_tls", [True, False])
async def test_strict_transport_security_only_where_the_site_is_served_over_tls(tmp_path, over_tls):
    from helpdesk import create_app
    from tests.conftest import settings_for

    app = create_app(settings_for(tmp_path, cookie_secure=over_tls))
    async with app.test_app():
        for path in ("/login", "/api/v1/me", "/static/css/app.css"):
            response = await app.test_client().get(path)
            hsts = response.headers.get("Strict-Transport-Security")
            assert hsts == ("max-age=31536000" if over_tls else None), path


async def test_cross_site_logout_is_refused_too(app, cast):
    response = await cast.reporter.client.post(
        "/api/v1/auth/logout", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 200


async def test_security_headers_on_pages_and_api(app, cast):
    for path in ("/login", "/api/v1/me"):
        response = await cast.reporter.client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_unknown_routes_and_methods_answer_in_the_error_shape(app, cast):
    missing = await cast.reporter.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert (await missing.get_json())["error"]["code"] == "not_found"
    wrong = await cast.reporter.client.delete("/api/v1/tickets")
    assert wrong.status_code == 405
    assert (await wrong.get_json())["error"]["code"]


async def test_oversized_bodies_are_413(app, cast):
    response = await cast.reporter.client.post(
        "/api/v1/tickets",
        data=b'{"title": "' + b"x" * 400_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_openapi_describes_every_api_route(app):
    spec = await (await app.test_client().get("/openapi.json")).get_json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.replace("<int:", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


async def test_docs_page_uses_only_local_assets(app):
    client = app.test_client()
    page = await (await client.get("/docs")).get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
    assert (await client.get("/docs/assets/../../../../etc/passwd")).status_code == 404


async def test_no_data_rides_in_a_client_side_session_cookie(app, cast):
    """Sign-in state lives in database rows; Quart's signed cookie session is never opened,
    and writing to it fails, so nothing can start keeping data on the client by accident."""
    response = await cast.reporter.client.get("/api/v1/me")
    assert response.status_code == 200
    cookies = response.headers.get_all("Set-Cookie")
    assert not any(cookie.startswith("session=") for cookie in cookies)
    async with app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            session["note"] = "kept on the client"


@pytest.mark.parametrize("host", ["a" * 64, "a..b", ".", "a" * 64 + ":8000", "x." + "b" * 70])
@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/static/css/app.css"])
async def test_a_host_no_url_could_carry_is_a_plain_400(app, host, path):
    response = await app.test_client().get(path, headers={"Host": host})
    assert response.status_code == 400
    assert "Host" in await response.get_data(as_text=True)


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"])
async def test_ordinary_hosts_are_served(app, host):
    response = await app.test_client().get("/login", headers={"Host": host})
    assert response.status_code == 200
