"""Schemathesis over /openapi.json: every operation, as staff and anonymously, must answer
without a server error, with a documented status code, content type and body shape.

The app runs in-process through Schemathesis' ASGI transport, which serves it on an event loop
of its own (its lifespan runs `before_serving`: the database opens there), so the database is
prepared beforehand on a loop of this test's own, like tests/live/server.py does for a real
server. Every failure found is collected per operation and reported together at the end, so one
run lists everything that is wrong with the description rather than the first mismatch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from quart_auth import QuartAuth
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.python import asgi
from tortoise.backends.base.executor import EXECUTOR_CACHE

from helpdesk import create_app, db
from helpdesk.config import Settings, load_settings
from helpdesk.domain.accounts import start_session
from helpdesk.models import Message, Role, Ticket
from tests.conftest import make_user, settings_for
from tests.fuzz.support import FUZZ_OVERRIDES, fuzz_settings, logged_errors
from tests.services import run_sync

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 10
SPARE_SESSIONS = 2 * EXAMPLES_PER_OPERATION  # a fuzzed logout ends one; then the next is used


async def prepare(settings: Settings, sessions: int) -> list[str]:
    """A staff member with signed-in sessions, and a ticket with a conversation for ids to hit."""
    await db.open_database(settings, create_schema=True)
    try:
        staff = await make_user("sam", Role.STAFF)
        reporter = await make_user("rita")
        ticket = await Ticket.create(
            reporter=reporter, title="No wifi", description="Since noon", category="it"
        )
        await Message.create(ticket=ticket, author=reporter, body="Still down")
        await Message.create(ticket=ticket, author=staff, body="Router 4", internal=True)
        return [await start_session(staff) for _ in range(sessions)]
    finally:
        await db.close_database()


@dataclass
class Identity:
    """Who the requests come from: a session cookie (rotated after a logout) or nobody."""

    cookie_name: str
    tokens: list[str] = field(default_factory=list)

    def cookies(self) -> dict[str, str]:
        return {self.cookie_name: self.tokens[0]} if self.tokens else {}

    def after(self, case: schemathesis.Case) -> None:
        if self.tokens and case.operation.path == "/api/v1/auth/logout":
            self.tokens.pop(0)
            assert self.tokens, "more logouts than spare sessions: raise SPARE_SESSIONS"


@pytest.fixture
def served_schema(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[schemathesis.BaseSchema, Identity, Identity]]:
    """The app's OpenAPI description, loaded from the running app; with a staff identity and
    an anonymous one. Stops the app afterwards so the next test can open the database."""
    EXECUTOR_CACHE.clear()
    overrides = settings_for(tmp_path, database_url=database_url, **FUZZ_OVERRIDES)
    tokens = run_sync(prepare(load_settings(environ={}, overrides=overrides), SPARE_SESSIONS))
    app = create_app(overrides)
    auth: QuartAuth = app.extensions["QUART_AUTH"][0]
    staff = Identity(auth.cookie_name, [auth.dump_token(token, app=app) for token in tokens])
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield schema, staff, Identity(auth.cookie_name)
    finally:
        asgi.shutdown_lifespans()


@dataclass
class Findings:
    """Distinct failures per operation, each with a curl command that reproduces it."""

    seen: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, case: schemathesis.Case, failure: Failure) -> None:
        """Keeps the shortest reproduction of each distinct failure."""
        first_line = next((line for line in failure.message.splitlines() if line.strip()), "")
        key = (case.operation.label, f"{failure.title}: {first_line.strip()}")
        curl = case.as_curl_command()
        if len(curl) < len(self.seen.get(key, curl + " ")):
            self.seen[key] = curl

    def report(self) -> str:
        return "\n".join(
            f"{operation}\n    {failure}\n    e.g. {curl}"
            for (operation, failure), curl in sorted(self.seen.items())
        )


@pytest.mark.parametrize("who", ["staff", "anonymous"])
def test_every_operation_conforms_to_its_description(
    served_schema: tuple[schemathesis.BaseSchema, Identity, Identity],
    who: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Positive and negative cases for each operation; every distinct failure is collected
    (with its shortest curl reproduction) and all are reported together."""
    schema, staff, anonymous = served_schema
    identity = staff if who == "staff" else anonymous
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/tickets" for op in operations), "the description is empty"

    for operation in operations:
        # Random ids rarely name a row; a third of the cases aim at ticket, message and user 1,
        # which exist, so success responses get checked against the description too.
        existing = {parameter.name: 1 for parameter in operation.path_parameters}
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=existing),
        )

        @fuzz_settings(EXAMPLES_PER_OPERATION)
        @given(case=cases)
        def exercise(case: schemathesis.Case) -> None:
            try:
                case.call_and_validate(
                    cookies=identity.cookies(), checks=CHECKS, allow_redirects=False
                )
            except FailureGroup as group:
                for failure in group.exceptions:
                    findings.add(case, failure)
            except Failure as failure:
                findings.add(case, failure)
            finally:
                identity.after(case)

        exercise()

    errors = logged_errors(caplog.records)
    assert not findings.seen and not errors, (
        f"{len(findings.seen)} mismatches:\n{findings.report()}\n\n"
        f"{len(errors)} errors logged:\n" + "\n".join(error.splitlines()[0] for error in errors)
    )
