"""Shared computers: no answer that needs a session may be kept by the browser.

The routes come from the authorization matrix, which is checked against `app.url_map`: a new
route is covered here as soon as it has its rule there.
"""

from __future__ import annotations

import pytest

from tests.security.test_authorization_matrix import ACTORS, ROUTES, callers, path_of

PUBLIC = {
    ("GET", "/static/<path:filename>"),
    ("GET", "/docs"),
    ("GET", "/docs/assets/<name>"),
    ("GET", "/openapi.json"),
}


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """Caching headers do not depend on the database: SQLite only, for speed."""
    from tests.services import sqlite_copy

    return sqlite_copy(sqlite_template, tmp_path)


def needs_a_session(method: str, rule: str) -> bool:
    return method == "GET" and ROUTES[(method, rule)].expect["anonymous"] in (401, 302)


SESSION_ROUTES = sorted(key for key in ROUTES if needs_a_session(*key))


def test_the_private_routes_are_the_ones_expected():
    assert ("GET", "/tickets/<int:ticket_id>") in SESSION_ROUTES
    assert ("GET", "/api/v1/tickets/<int:ticket_id>/messages") in SESSION_ROUTES
    assert ("GET", "/files/<int:attachment_id>") in SESSION_ROUTES
    assert not PUBLIC & set(SESSION_ROUTES)


@pytest.mark.parametrize(("method", "rule"), SESSION_ROUTES, ids=lambda v: str(v))
async def test_every_answer_of_a_signed_in_route_is_no_store(app, method, rule):
    route = ROUTES[(method, rule)]
    cast = await callers(app, with_attachment="{attachment}" in route.path)
    path = path_of(route, cast)
    for actor in ACTORS:
        response = await cast["clients"][actor].get(path)
        directives = {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}
        assert "no-store" in directives, (actor, response.status_code)


async def test_sign_in_pages_and_errors_are_not_stored_either(app):
    client = app.test_client()
    for path in ("/login", "/register", "/api/v1/health", "/no-such-page", "/api/v1/nothing"):
        response = await client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize(("method", "rule"), sorted(PUBLIC), ids=lambda v: str(v))
async def test_public_files_stay_cacheable(app, method, rule):
    response = await app.test_client().get(ROUTES[(method, rule)].path)
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
