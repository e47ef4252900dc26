"""What the fuzzers share: reproducible Hypothesis settings, the API's routes as the app itself
declares them, strategies for hostile input, and the checks every answer must pass."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from helpdesk import create_app

# Throttles raised so examples explore the handlers instead of hitting the same 429 again and
# again; registrations stay limited per address, since their 429s are fuzzed too.
FUZZ_OVERRIDES: dict[str, Any] = {
    "ws_rate_per_second": 100_000.0,
    "ws_burst": 100_000,
    "chat_messages": 1_000_000,
    "reports_per_hour": 1_000_000,
    "login_max_failures": 1_000_000,
}
# HELPDESK_FUZZ_SCALE=10 runs ten times the examples (still derandomized) for a deeper local hunt.
SCALE = float(os.environ.get("HELPDESK_FUZZ_SCALE", "1"))
_ROUTE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def fuzz_settings(max_examples: int, **extra: Any) -> settings:
    """Reproducible (derandomized, no example database) and bounded; the app and its database are
    knowingly shared by all examples of one test, hence the function-scoped-fixture exemption."""
    return settings(
        max_examples=max(1, int(max_examples * SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        # Shrinking gives the minimal input; the explain phase would re-run hundreds of requests.
        phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        **extra,
    )


# --- the routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI description says a route takes: its body's and its query's fields."""

    body_fields: dict[str, dict[str, Any]]
    required: tuple[str, ...]
    query_fields: dict[str, dict[str, Any]]
    definitions: dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One method of one URL rule of the JSON API, and what its OpenAPI description says."""

    method: str
    rule: str  # werkzeug's form: /api/v1/tickets/<int:ticket_id>
    arguments: tuple[str, ...]
    operation: Operation = field(compare=False, repr=False)

    def path(self, values: Mapping[str, str]) -> str:
        return _ROUTE_ARGUMENT.sub(lambda match: values[match.group(1)], self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def api_routes() -> list[Route]:
    """Every HTTP route under /api/ in the app's url_map (a route added later is fuzzed too), with
    the fields its OpenAPI description names. Building the app touches no database."""
    app = create_app(
        {
            "database_url": "sqlite://:memory:",
            "instance_path": Path(tempfile.gettempdir()) / "helpdesk-fuzz-routes",
            "secret_key": "route-listing-only-" + "x" * 32,
        }
    )
    openapi = app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    routes = [
        Route(
            method,
            rule.rule,
            tuple(sorted(rule.arguments)),
            describe(method, _ROUTE_ARGUMENT.sub(r"{\1}", rule.rule), openapi),
        )
        for rule in app.url_map.iter_rules()
        if not rule.websocket and rule.rule.startswith("/api/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    return sorted(routes, key=str)


def route_params(routes: Sequence[Route]) -> list[Any]:
    return [pytest.param(route, id=str(route)) for route in routes]


def describe(method: str, openapi_path: str, openapi: dict[str, Any]) -> Operation:
    """The route's fields from the app's OpenAPI description; an undocumented route gets none
    (and is still fuzzed, with generic keys)."""
    definitions = openapi.get("components", {}).get("schemas", {})
    operation = openapi.get("paths", {}).get(openapi_path, {}).get(method.lower(), {})
    body = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    body = resolve(body, definitions)
    query = {
        parameter["name"]: parameter.get("schema", {})
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query"
    }
    return Operation(
        body_fields=dict(body.get("properties", {})),
        required=tuple(body.get("required", ())),
        query_fields=query,
        definitions=definitions,
    )


def resolve(schema: dict[str, Any], definitions: Mapping[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


# --- hostile values ---------------------------------------------------------------------------

BOUNDARY_INTS = (
    0,
    1,
    2,
    3,
    -1,
    2**31 - 1,
    2**31,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**40,
)
ODD_TEXT = (
    "",
    " ",
    "\x00",
    "\t\n",
    "null",
    "true",
    "1",
    "-1",
    "1e3",
    "0x1f",
    "NaN",
    "é",
    "🦄",
    "\u202e",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "open",
    "active",
    "closed",
    "it",
    "me",
    "none",
    "board",
    "ticket:1",
    "a" * 201,
    "a" * 5_001,
    "a" * 10_001,
)
RAW_BODIES = (
    b"",
    b"{",
    b"[",
    b"\xff\xfe\xfd",
    b'{"title": "\xff\xfe"}',
    b"\xef\xbb\xbf{}",
    b'{"a": 1}{"b": 2}',
    b"NaN",
    b'{"status": NaN}',
    b'{"version": 1e999}',
    b'{"version": 123456789012345678901234567890}',
    b'{"status": "active", "status": "closed"}',
    b'"\\ud800"',
    b'{"body": "\\ud800"}',
    b"\x00",
    b"[" * 5_000,
    b"9" * 5_000,
)
ODD_CONTENT_TYPES = (
    None,
    "",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/merge-patch+json",
    "text/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "application/octet-stream",
    "application/json;;;",
    "*/*",
)
# Where integer columns and converters overflow: int32, int64, uint64.
BOUNDARY_IDS = tuple(
    str(number) for number in (2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**40)
)
ODD_IDS = (
    "0",
    "-1",
    "007",
    "1.0",
    "1e3",
    "%201",
    "%D9%A1%D9%A2",  # Arabic-Indic digits: \d matches them
    "%00",
    "%2F",
    "%ff",
)

# Valid text that databases and LIKE patterns treat specially.
SPECIAL_TEXT = ("\x00", "a\x00b", "%", "_", "\\", "'", "é", "🦄", "\u202e", "\ufeff")

scalars: SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(BOUNDARY_INTS),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(ODD_TEXT),
)
json_values: SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def plausible(schema: dict[str, Any], definitions: Mapping[str, Any]) -> SearchStrategy[Any]:
    """Values a field's JSON schema allows (roughly): they get requests past validation, so the
    handlers and the database behind it are fuzzed too. Numbers are often small (naming rows
    that exist) or at the integer limits; text is often text that databases treat specially."""
    schema = resolve(schema, definitions)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([plausible(option, definitions) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        low = schema.get("minLength", 0)
        high = max(low, min(schema.get("maxLength", 30), 30))
        special = [text for text in SPECIAL_TEXT if low <= len(text) <= high]
        return st.one_of(st.text(min_size=low, max_size=high), st.sampled_from(special))
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        edges = [
            number
            for number in BOUNDARY_INTS
            if (low is None or number >= low) and (high is None or number <= high)
        ]
        return st.one_of(st.integers(1, 6), st.sampled_from(edges), st.integers(low, high))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return json_values


def encode_json(value: Any, ascii_only: bool) -> bytes:
    """JSON text as a client might send it: lone surrogates become invalid UTF-8 bytes."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def valid_objects(operation: Operation) -> SearchStrategy[dict[str, Any]]:
    """Objects the route's schema (roughly) allows: they reach the handler behind validation."""
    fields = operation.body_fields
    valid = {name: plausible(schema, operation.definitions) for name, schema in fields.items()}
    return st.fixed_dictionaries(
        {name: valid[name] for name in operation.required},
        optional={name: valid[name] for name in fields if name not in operation.required},
    )


@st.composite
def hostile_objects(draw: st.DrawFn, operation: Operation) -> dict[str, Any]:
    """Objects with the route's keys: valid ones with one field spoiled, the right keys with
    arbitrary values, or wrong keys altogether."""
    keys = list(operation.body_fields) or ["id", "title", "status", "body"]
    choice = draw(st.integers(0, 2))
    if choice == 0:
        value = draw(valid_objects(operation))
        value[draw(st.sampled_from([*keys, "unexpected"]))] = draw(json_values)
        return value
    if choice == 1:
        return draw(st.fixed_dictionaries({}, optional=dict.fromkeys(keys, json_values)))
    return draw(st.dictionaries(st.text(max_size=10), json_values, max_size=4))


def valid_bodies(operation: Operation) -> SearchStrategy[bytes]:
    return st.builds(encode_json, valid_objects(operation), st.booleans())


def hostile_bodies(operation: Operation) -> SearchStrategy[bytes | None]:
    """JSON objects and non-objects, raw bytes (invalid UTF-8, not JSON), one body over the
    256 KiB limit; None sends no body."""
    as_json = st.builds(
        encode_json, st.one_of(hostile_objects(operation), json_values), st.booleans()
    )
    return st.one_of(
        as_json,
        as_json,
        st.sampled_from(RAW_BODIES),
        st.binary(max_size=40),
        st.none(),
        st.just(b'{"title": "' + b"a" * 300_000 + b'"}'),
    )


content_types: SearchStrategy[str | None] = st.one_of(
    st.just("application/json"), st.sampled_from(ODD_CONTENT_TYPES)
)


def query_strings(operation: Operation) -> SearchStrategy[str]:
    """Known and unknown keys, repeated keys, huge and negative numbers, unicode, invalid
    percent-escapes and invalid UTF-8."""
    hostile = st.one_of(
        st.sampled_from(BOUNDARY_INTS).map(str),
        st.integers().map(str),
        st.text(max_size=12),
        st.sampled_from(ODD_TEXT),
    )
    known = [
        st.tuples(
            st.just(name), st.one_of(plausible(schema, operation.definitions).map(str), hostile)
        )
        for name, schema in operation.query_fields.items()
    ]
    unknown = st.tuples(
        st.one_of(st.sampled_from([*operation.body_fields, "limit"]), st.text(max_size=6)), hostile
    )
    pairs = st.lists(st.one_of(*known, *known, unknown), max_size=5)
    raw = st.lists(
        st.sampled_from(["%ff", "%", "%zz", "&", "=", ";", "a=%00", "limit=%C0%AE"]), max_size=2
    )
    return st.builds(
        lambda pairs, raw: "&".join(
            part
            for part in (urlencode(pairs, encoding="utf-8", errors="surrogatepass"), *raw)
            if part
        ),
        pairs,
        raw,
    )


def path_values(existing_ids: Sequence[int]) -> SearchStrategy[str]:
    """Ids in the URL path: ones that exist, any integer, odd spellings, arbitrary text."""
    return st.one_of(
        st.sampled_from([str(number) for number in existing_ids]),
        st.sampled_from(BOUNDARY_IDS),
        st.sampled_from(BOUNDARY_IDS),  # twice: overflows are where ids break
        st.integers(-(2**70), 2**70).map(str),
        st.sampled_from(ODD_IDS),
        st.text(max_size=8).map(lambda text: quote(text, safe="")),
    )


# --- the limits sweep -------------------------------------------------------------------------

LIMIT_INTS = (0, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63)
LIMIT_TEXT = ("\x00", "a\x00b", "%", "_", "\\", "'", "é🦄", "\u202e")
LIMIT_IDS = ("0", str(2**31), str(2**63 - 1), str(2**63))


@dataclass(frozen=True)
class Limit:
    """One request of the sweep: a path id, query parameter or body field set to a limit value,
    everything else valid."""

    where: str  # "path", "query", "body", or "" for the valid request itself
    name: str = ""
    value: Any = None

    def __str__(self) -> str:
        return f"{self.where}.{self.name}={self.value!r}" if self.where else "(valid request)"


def json_types(schema: dict[str, Any], definitions: Mapping[str, Any]) -> set[str]:
    schema = resolve(schema, definitions)
    if "anyOf" in schema:
        return set().union(*(json_types(option, definitions) for option in schema["anyOf"]))
    return {schema.get("type", "string" if "enum" in schema else "")}


def limits_of(route: Route) -> list[Limit]:
    """Every field of the route, in turn, at every limit of its type: derived from the route's
    rule and its OpenAPI description, so a new route or field is swept too."""
    operation = route.operation
    sweep = [Limit("")]
    sweep += [Limit("path", name, value) for name in route.arguments for value in LIMIT_IDS]
    for name in operation.query_fields:
        sweep += [Limit("query", name, str(value)) for value in (*LIMIT_INTS, *LIMIT_TEXT)]
    for name, schema in operation.body_fields.items():
        types = json_types(schema, operation.definitions)
        if "integer" in types:
            sweep += [Limit("body", name, value) for value in LIMIT_INTS]
        if "string" in types:
            sweep += [Limit("body", name, value) for value in LIMIT_TEXT]
    return sweep


def baseline_value(schema: dict[str, Any], definitions: Mapping[str, Any]) -> Any:
    """The plainest value a field's schema allows, for fields no hint names."""
    schema = resolve(schema, definitions)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        return baseline_value(options[0], definitions) if options else None
    kind = schema.get("type")
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    return "x" * max(schema.get("minLength", 1), 1)


# --- the checks -------------------------------------------------------------------------------


def assert_error_shape(payload: Any, context: str) -> None:
    """The README's promise: every error is {"error": {"code": str, "detail": str, ...}}."""
    assert isinstance(payload, dict) and isinstance(payload.get("error"), dict), (
        f"{context}: not the error shape: {payload!r}"
    )
    error = payload["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"{context}: {payload!r}"
    assert isinstance(error.get("detail"), str), f"{context}: {payload!r}"
    assert isinstance(error.get("field", ""), str), f"{context}: {payload!r}"


async def assert_well_answered(response: Any, context: str) -> Any:
    """Never a 5xx; every 4xx is JSON in the error shape; JSON answers parse. Returns the JSON."""
    raw: bytes = await response.get_data()
    text = raw.decode("utf-8", "replace")
    assert response.status_code < 500, f"{context} -> {response.status_code}: {text[:2000]}"
    payload = None
    if 400 <= response.status_code < 500:
        assert response.mimetype == "application/json", (
            f"{context} -> {response.status_code} {response.mimetype}: {text[:500]}"
        )
        payload = json.loads(raw)
        assert_error_shape(payload, f"{context} -> {response.status_code}")
    elif response.mimetype == "application/json" and raw:
        payload = json.loads(raw)
    return payload


def logged_errors(records: Sequence[logging.LogRecord]) -> list[str]:
    """ERROR-or-worse records, with their tracebacks, for the failure message."""
    formatter = logging.Formatter("%(name)s %(levelname)s: %(message)s")
    return [formatter.format(record) for record in records if record.levelno >= logging.ERROR]
