"""Hostile requests to every route of the JSON API: never a 5xx, every 4xx in the documented
error shape, and nothing logged at ERROR while the request is handled."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PASSWORD
from tests.fuzz.conftest import ACTORS, World
from tests.fuzz.support import (
    Route,
    api_routes,
    assert_well_answered,
    baseline_value,
    content_types,
    fuzz_settings,
    hostile_bodies,
    limits_of,
    logged_errors,
    path_values,
    query_strings,
    route_params,
    valid_bodies,
)

ROUTES = api_routes()
ON_THE_WORLDS_LOOP = pytest.mark.asyncio(loop_scope="module")  # the shared world lives there
EXAMPLES_PER_ROUTE = 30


def test_the_route_list_is_derived_from_the_app() -> None:
    """Guards the derivation itself: if it found nothing, every test below would be vacuous."""
    rules = {route.rule for route in ROUTES}
    assert "/api/v1/tickets" in rules and "/api/v1/tickets/<int:ticket_id>/status" in rules
    assert all(route.rule.startswith("/api/") for route in ROUTES)


@ON_THE_WORLDS_LOOP
@pytest.mark.parametrize("route", route_params(ROUTES))
@fuzz_settings(EXAMPLES_PER_ROUTE)
@given(data=st.data())
async def test_hostile_requests_get_clean_answers(
    route: Route, world: World, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    """Arbitrary bodies, content types, query strings and path ids, from every kind of caller.
    Half the examples send a body the schema allows, so that hostile ids and queries reach the
    handler and the database behind the validation."""
    actor = data.draw(st.sampled_from(ACTORS), label="actor")
    path = route.path(
        {name: data.draw(path_values(world.ids), label=name) for name in route.arguments}
    )
    query = data.draw(query_strings(route.operation), label="query")
    body: bytes | None = None
    content_type: str | None = "application/json"
    if route.method != "GET":
        if data.draw(st.booleans(), label="valid body"):
            body = data.draw(valid_bodies(route.operation), label="body")
        else:
            body = data.draw(hostile_bodies(route.operation), label="body")
            content_type = data.draw(content_types, label="content_type")
    target = f"{path}?{query}" if query else path
    headers = {"Content-Type": content_type} if content_type is not None else {}
    client = await world.client(actor)

    caplog.clear()
    response = await client.open(target, method=route.method, data=body or b"", headers=headers)
    context = f"{actor} {route.method} {target} [{content_type}] {(body or b'')[:300]!r}"
    await assert_well_answered(response, context)
    errors = logged_errors(caplog.records)
    assert not errors, f"{context} logged:\n" + "\n".join(errors)


UNROUTED_PATHS = st.one_of(
    st.sampled_from(["/api/v1/nope", "/api/v1/tickets/abc", "/api/v1/tickets/-1", "/api/v2/x"]),
    st.lists(st.text(min_size=1, max_size=6), max_size=3).map(
        lambda parts: "/api/v1/" + "/".join(parts)
    ),
)
METHODS = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"])


@ON_THE_WORLDS_LOOP
@fuzz_settings(40)
@given(path=UNROUTED_PATHS, method=METHODS, actor=st.sampled_from(ACTORS))
async def test_unknown_paths_and_methods_under_api_answer_json(
    world: World, caplog: pytest.LogCaptureFixture, path: str, method: str, actor: str
) -> None:
    """A wrong URL or method under /api/ is a JSON 404/405 like any other error, never a page."""
    client = await world.client(actor)
    target = quote(path, safe="/")
    caplog.clear()
    response = await client.open(target, method=method)
    context = f"{actor} {method} {target}"
    await assert_well_answered(response, context)
    assert not logged_errors(caplog.records), context


STRONG_PASSWORD = "correct horse battery staple 77"
FREE_USERNAMES = (f"limits{number}" for number in itertools.count())


def valid_request(route: Route, world: World, ticket_id: int) -> dict[str, Any]:
    """Path values and a body that pass the app's rules beyond the schema too (a ticket that
    may move to active, a staff assignee, a strong password, a free username): hints by field
    name, the plainest schema-valid value for any other required field."""
    hints: dict[str, Any] = {
        "ticket_id": ticket_id,
        "user_id": world.user_id("other"),
        "status": "active",
        "assignee_id": world.user_id("staff"),
        "message_id": world.message_ids[0],
        "username": next(FREE_USERNAMES),
        "password": STRONG_PASSWORD,
        "new_password": STRONG_PASSWORD,
        "current_password": PASSWORD,
        "body": "Still cold",
    }
    operation = route.operation
    body = {
        name: hints.get(name, baseline_value(operation.body_fields[name], operation.definitions))
        for name in operation.required
    }
    path = {name: str(hints.get(name, 1)) for name in route.arguments}
    return {"path": path, "query": {}, "body": body}


@ON_THE_WORLDS_LOOP
@pytest.mark.parametrize("route", route_params(ROUTES))
async def test_limit_values_in_every_field_get_clean_answers(
    route: Route, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The deterministic complement of the random examples: every path id, query parameter and
    body field in turn at the integer limits (2**31, 2**63) or holding text databases treat
    specially (NUL, LIKE wildcards, quotes), the rest of the request valid so that the value
    reaches the handler and the database. Lists every failing limit of the route at once."""
    failures: list[str] = []
    for number, limit in enumerate(limits_of(route)):
        # A move or an assignment succeeds once per ticket: those get a fresh one each time.
        moves = {"status", "assignee_id"} & set(route.operation.required)
        ticket_id = await world.new_ticket() if moves else world.ticket_ids[0]
        request = valid_request(route, world, ticket_id)
        if limit.where:
            request[limit.where][limit.name] = limit.value
        target = route.path(request["path"])
        if request["query"]:
            target += "?" + urlencode(request["query"])
        body = {} if route.method == "GET" else {"json": request["body"]}
        client = await world.client("admin")
        caplog.clear()
        response = await client.open(
            target,
            method=route.method,
            # an address of its own, so request-rate limits do not hide what comes after them
            scope_base={"client": (f"10.9.{number // 250}.{number % 250 + 1}", 40000)},
            **body,
        )
        try:
            await assert_well_answered(response, f"{route} with {limit}")
            errors = logged_errors(caplog.records)
            assert not errors, f"{route} with {limit} logged: {errors[-1].splitlines()[-1]}"
        except AssertionError as failure:
            failures.append(str(failure).splitlines()[0][:300])
    assert not failures, f"{len(failures)} limits mishandled:\n" + "\n".join(failures)
