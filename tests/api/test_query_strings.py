"""An empty query value means "not given", on every route: `?category=` is no filter, not a 400."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from quart_schema.validation import QUART_SCHEMA_QUERYSTRING_ATTRIBUTE

from helpdesk.web.context import HelpdeskApp
from tests.conftest import create_ticket, json_of
from tests.security.test_authorization_matrix import ROUTES, callers, path_of

VOLATILE = {"generated_at"}  # computed at each call, so never the same twice


async def test_empty_filters_list_as_if_absent(app, cast):
    await create_ticket(cast.reporter.client, category="it")
    await create_ticket(cast.reporter.client, category="services")
    bare = await json_of(await cast.staff.client.get("/api/v1/tickets"))
    response = await cast.staff.client.get("/api/v1/tickets?status=&category=&q=&assignee=")
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert await json_of(response) == bare
    assert len(bare["items"]) == 2


async def test_a_blank_value_beside_a_real_one_keeps_the_real_one(app, cast):
    wifi = await create_ticket(cast.reporter.client, title="No wifi", category="it")
    await create_ticket(cast.reporter.client, title="Cold room", category="facilities")
    listed = await json_of(await cast.staff.client.get("/api/v1/tickets?category=it&q=%20&limit="))
    assert [ticket["id"] for ticket in listed["items"]] == [wifi["id"]]


def query_parameters(app: HelpdeskApp) -> set[str]:
    """Every query parameter some route of the app declares."""
    names: set[str] = set()
    for function in app.view_functions.values():
        model = getattr(function, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None)
        if model is not None:
            names.update(model.model_fields)
    return names


def comparable(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: comparable(value) for key, value in body.items() if key not in VOLATILE}
    return body


async def test_every_get_route_answers_empty_parameters_as_if_absent(app):
    names = query_parameters(app)
    assert {"status", "category", "q", "assignee", "days", "limit", "after"} <= names
    empty = urlencode(dict.fromkeys(sorted(names), ""))
    cast = await callers(app, with_attachment=True)
    for (method, rule), route in sorted(ROUTES.items()):
        if method != "GET" or rule.startswith(("/static/", "/docs/assets/")):
            continue
        path = path_of(route, cast)
        for actor in ("staff", "reporter"):
            client = cast["clients"][actor]
            bare = await client.get(path)
            blank = await client.get(f"{path}{'&' if '?' in path else '?'}{empty}")
            assert blank.status_code == bare.status_code, (actor, path)
            if bare.mimetype == "application/json":
                assert comparable(await json_of(blank)) == comparable(await json_of(bare))
