"""Random sequences of operations by several people through the JSON API, checked against a
model of the rules, then against invariants over everything stored: the workflow, versions,
counts, and what reporters may see.

Hypothesis' state machines are synchronous, so the app runs on an event loop of this test's own
(an asyncio.Runner): every rule hands its requests to that loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    rule,
    run_state_machine_as_test,
)
from quart.typing import TestClientProtocol as QuartClient
from tortoise.backends.base.executor import EXECUTOR_CACHE

from helpdesk import create_app
from helpdesk.domain.fields import REORDERING_CONTROLS
from helpdesk.domain.workflow import TRANSITIONS
from helpdesk.models import Event, Message, ReadMarker, Role, Status, StatusChange, Ticket
from helpdesk.web.context import HelpdeskApp
from tests.conftest import make_user, settings_for, signed_in_client
from tests.fuzz.support import FUZZ_OVERRIDES, assert_well_answered, fuzz_settings, logged_errors
from tests.live.helpers import FrameReader

T = TypeVar("T")
REPORTERS = ("rita", "oscar")
STAFF = ("sam", "priya", "ada")
PEOPLE = REPORTERS + STAFF
ROLES = {"rita": Role.USER, "oscar": Role.USER, "sam": Role.STAFF, "priya": Role.STAFF}
VERSIONED_KINDS = ("ticket.updated", "ticket.status_changed", "ticket.assigned")
MOVES = {
    (source.value, target.value): reporter_may
    for (source, target), reporter_may in TRANSITIONS.items()
}

# Printable text without NUL, other control characters or the bidi controls a title refuses
# (the input fuzzer covers those).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=REORDERING_CONTROLS),
    min_size=1,
    max_size=40,
).filter(str.strip)
CATEGORIES = st.sampled_from(["facilities", "it", "services"])
PRIORITIES = st.sampled_from(["low", "normal", "high", "urgent"])
VERSION_CHOICE = st.sampled_from(["none", "current", "none", "stale"])  # stale: one in four
STATUSES = ("open", "active", "closed")
EDITABLE = ("title", "description", "category", "location", "priority")


@dataclass
class Backend:
    """The served app on a loop of our own, and a signed-in test client per person."""

    runner: asyncio.Runner
    app: HelpdeskApp
    clients: dict[str, QuartClient]
    ids: dict[str, int]
    caplog: pytest.LogCaptureFixture

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    def forget_tickets(self) -> None:
        """Each run starts from no tickets: shrinking replays hundreds of runs, and invariants
        over an ever-growing database would get slower with every one."""

        async def forget() -> None:
            for model in (ReadMarker, Event, StatusChange, Message, Ticket):
                await model.all().delete()
            self.app.analytics.changed()  # the summary cache must not outlive the rows

        self.run(forget())

    def send(self, who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request: never a 5xx, a 4xx in the error shape, nothing logged at ERROR."""

        async def send() -> tuple[int, Any]:
            response = await self.clients[who].open(path, method=method, json=body)
            context = f"{who} {method} {path} {body!r}"
            return response.status_code, await assert_well_answered(response, context)

        self.caplog.clear()
        status, payload = self.run(send())
        errors = logged_errors(self.caplog.records)
        assert not errors, f"{who} {method} {path} {body!r} logged:\n" + "\n".join(errors)
        return status, payload


@contextmanager
def served(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> Iterator[Backend]:
    """Start the app (before_serving: database, hub, analytics) on a fresh loop with the
    people of the model signed in; stop it afterwards and check the stop logged no errors."""
    EXECUTOR_CACHE.clear()  # see the root conftest: Tortoise caches SQL per connection name
    app = create_app(settings_for(tmp_path, database_url=database_url, **FUZZ_OVERRIDES))
    lifespan = app.test_app()
    with asyncio.Runner() as runner:
        runner.run(lifespan.__aenter__())
        try:
            users = {
                name: runner.run(make_user(name, ROLES.get(name, Role.ADMIN))) for name in PEOPLE
            }
            clients = {
                name: runner.run(signed_in_client(app, user)) for name, user in users.items()
            }
            ids = {name: user.id for name, user in users.items()}
            yield Backend(runner, app, clients, ids, caplog)
        finally:
            caplog.clear()
            runner.run(lifespan.__aexit__(None, None, None))
            shutdown_errors = logged_errors(caplog.records)
    assert not shutdown_errors, "shutting down logged:\n" + "\n".join(shutdown_errors)


@dataclass
class Expected:
    """What the model knows of one ticket created in this run."""

    reporter: str
    ticket: dict[str, Any]
    moves: list[tuple[str, str]] = field(default_factory=list)
    internal_ids: set[int] = field(default_factory=set)

    @property
    def version(self) -> int:
        return self.ticket["version"]

    @property
    def status(self) -> str:
        return self.ticket["status"]


class HelpdeskMachine(RuleBasedStateMachine):
    """Several people report, edit, move, assign and discuss tickets; every answer is checked
    against the rules, and the stored state against the invariants."""

    backend: ClassVar[Backend]
    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.expected: dict[int, Expected] = {}
        self.backend.forget_tickets()

    # --- helpers ---------------------------------------------------------------------------

    def sees(self, who: str, ticket_id: int) -> bool:
        return who in STAFF or self.expected[ticket_id].reporter == who

    def version_for(self, choice: str, ticket_id: int) -> dict[str, int]:
        version = self.expected[ticket_id].version
        return {"none": {}, "current": {"version": version}, "stale": {"version": version + 7}}[
            choice
        ]

    def accept(self, ticket_id: int, payload: dict[str, Any], *, bumped: bool) -> None:
        """A successful change: the version went up by exactly one, or not at all."""
        before = self.expected[ticket_id]
        assert payload["version"] == before.version + (1 if bumped else 0), (before.ticket, payload)
        before.ticket = payload

    # --- rules -----------------------------------------------------------------------------

    @rule(
        target=tickets,
        who=st.sampled_from(PEOPLE),
        title=TEXT,
        category=CATEGORIES,
        location=st.none() | TEXT,
    )
    def report(self, who: str, title: str, category: str, location: str | None) -> Any:
        body = {"title": title, "description": title, "category": category, "location": location}
        status, ticket = self.backend.send(who, "POST", "/api/v1/tickets", body)
        assert status == 201, ticket
        assert (ticket["status"], ticket["version"], ticket["assignee"]) == ("open", 1, None)
        assert ticket["reporter"]["id"] == self.backend.ids[who]
        self.expected[ticket["id"]] = Expected(who, ticket)
        return ticket["id"]

    @rule(
        who=st.sampled_from(PEOPLE),
        ticket_id=tickets,
        pick=st.sampled_from(["allowed", "any"]),
        data=st.data(),
        version=VERSION_CHOICE,
        note=st.none() | TEXT,
    )
    def move(
        self,
        who: str,
        ticket_id: int,
        pick: str,
        data: st.DataObject,
        version: str,
        note: str | None,
    ) -> None:
        """Half the moves aim at a status the workflow allows, so tickets travel far."""
        current = self.expected[ticket_id].status
        allowed = [to for (source, to) in MOVES if source == current]
        to = data.draw(st.sampled_from(allowed if pick == "allowed" else list(STATUSES)))
        body = {"status": to, "note": note, **self.version_for(version, ticket_id)}
        status, payload = self.backend.send(
            who, "POST", f"/api/v1/tickets/{ticket_id}/status", body
        )
        if not self.sees(who, ticket_id):
            assert status == 404, payload
        elif version == "stale":
            assert (status, payload["error"]["code"]) == (409, "version_conflict"), payload
        elif (current, to) not in MOVES:
            assert (status, payload["error"]["code"]) == (409, "invalid_transition"), payload
        elif who not in STAFF and not MOVES[current, to]:
            assert status == 403, payload
        else:
            assert status == 200, payload
            assert payload["status"] == to
            self.accept(ticket_id, payload, bumped=True)
            self.expected[ticket_id].moves.append((current, to))

    @rule(
        who=st.sampled_from(PEOPLE),
        ticket_id=tickets,
        changes=st.fixed_dictionaries(
            {},
            optional={
                "title": TEXT,
                "description": TEXT,
                "category": CATEGORIES,
                "location": st.none() | TEXT,
                "priority": PRIORITIES,
            },
        ),
        version=VERSION_CHOICE,
    )
    def edit(self, who: str, ticket_id: int, changes: dict[str, Any], version: str) -> None:
        body = {**changes, **self.version_for(version, ticket_id)}
        status, payload = self.backend.send(who, "PATCH", f"/api/v1/tickets/{ticket_id}", body)
        before = self.expected[ticket_id].ticket
        if not self.sees(who, ticket_id):
            assert status == 404, payload
        elif who not in STAFF and before["status"] == "closed":
            assert status == 409, payload
        elif who not in STAFF and "priority" in changes:
            assert status == 403, payload
        elif version == "stale":
            assert (status, payload["error"]["code"]) == (409, "version_conflict"), payload
        else:
            assert status == 200, payload
            changed = [name for name in changes if payload[name] != before[name]]
            untouched = {*EDITABLE, "status", "assignee", "reporter"} - set(changes)
            assert all(payload[name] == before[name] for name in untouched), (before, payload)
            self.accept(ticket_id, payload, bumped=bool(changed))

    @rule(
        who=st.sampled_from(PEOPLE),
        ticket_id=tickets,
        assignee=st.sampled_from([*PEOPLE, None]),
        version=VERSION_CHOICE,
    )
    def assign(self, who: str, ticket_id: int, assignee: str | None, version: str) -> None:
        assignee_id = self.backend.ids[assignee] if assignee else None
        body = {"assignee_id": assignee_id, **self.version_for(version, ticket_id)}
        status, payload = self.backend.send(
            who, "POST", f"/api/v1/tickets/{ticket_id}/assign", body
        )
        before = self.expected[ticket_id].ticket
        if not self.sees(who, ticket_id):
            assert status == 404, payload
        elif who not in STAFF:
            assert status == 403, payload
        elif version == "stale":
            assert (status, payload["error"]["code"]) == (409, "version_conflict"), payload
        elif assignee is not None and assignee not in STAFF:
            assert status == 400, payload
        else:
            assert status == 200, payload
            assert (payload["assignee"] or {}).get("id") == assignee_id
            current = (before["assignee"] or {}).get("id")
            self.accept(ticket_id, payload, bumped=current != assignee_id)

    @rule(who=st.sampled_from(PEOPLE), ticket_id=tickets, body=TEXT, internal=st.booleans())
    def say(self, who: str, ticket_id: int, body: str, internal: bool) -> None:
        message = {"body": body, "internal": internal}
        path = f"/api/v1/tickets/{ticket_id}/messages"
        status, payload = self.backend.send(who, "POST", path, message)
        if not self.sees(who, ticket_id):
            assert status == 404, payload
        elif internal and who not in STAFF:
            assert status == 403, payload
        elif who not in STAFF and self.expected[ticket_id].status == "closed":
            assert status == 409, payload
        else:
            assert status == 201, payload
            if internal:
                self.expected[ticket_id].internal_ids.add(payload["id"])

    def teardown(self) -> None:
        """The invariants over everything stored, after every run (checking them after every
        step would cost more requests than the steps themselves)."""
        self.backend.run(self.verify_stored_state())

    # --- invariants ------------------------------------------------------------------------

    async def verify_stored_state(self) -> None:
        await self.stored_history_follows_the_workflow()
        await self.model_agrees_with_the_api()
        await self.counts_agree()
        for reporter in REPORTERS:
            await self.reporter_sees_only_their_own(reporter)

    async def stored_history_follows_the_workflow(self) -> None:
        """Over every ticket stored: status changes chain along allowed moves from `open` to the
        current status, and version = 1 + the changes logged for the ticket."""
        changes: dict[int, list[StatusChange]] = defaultdict(list)
        for change in await StatusChange.all().order_by("id"):
            changes[change.ticket_id].append(change)
        rooms = Counter(await Event.filter(kind__in=VERSIONED_KINDS).values_list("room", flat=True))
        for ticket in await Ticket.all():
            status = Status.OPEN
            for change in changes[ticket.id]:
                assert change.from_status == status, (ticket.id, change.from_status, status)
                assert (change.from_status, change.to_status) in TRANSITIONS, ticket.id
                status = change.to_status
            assert ticket.status == status, (ticket.id, ticket.status, status)
            logged = rooms[f"ticket:{ticket.id}"]
            assert ticket.version == 1 + logged, (ticket.id, ticket.version, logged)

    async def model_agrees_with_the_api(self) -> None:
        staff = self.backend.clients["sam"]
        for ticket_id, expected in self.expected.items():
            ticket = await (await staff.get(f"/api/v1/tickets/{ticket_id}")).get_json()
            assert (ticket["status"], ticket["version"]) == (expected.status, expected.version)
            history = await (await staff.get(f"/api/v1/tickets/{ticket_id}/history")).get_json()
            moves = [
                (item["from"], item["to"]) for item in history["items"] if item["kind"] == "status"
            ]
            assert moves == expected.moves, (ticket_id, moves, expected.moves)

    async def counts_agree(self) -> None:
        """The summary's counts are what the listing lists, and all tickets are counted."""
        staff = self.backend.clients["sam"]
        summary = await (await staff.get("/api/v1/analytics/summary")).get_json()
        for status in ("open", "active", "closed"):
            listed = await all_pages(staff, f"status={status}")
            assert summary["by_status"].get(status, 0) == len(listed), (status, summary)
        assert sum(summary["by_status"].values()) == await Ticket.all().count()

    async def reporter_sees_only_their_own(self, reporter: str) -> None:
        client, me = self.backend.clients[reporter], self.backend.ids[reporter]
        listed = await all_pages(client, "")
        assert {t["reporter"]["id"] for t in listed} <= {me}, listed
        theirs = {ticket_id for ticket_id, e in self.expected.items() if e.reporter == reporter}
        assert {t["id"] for t in listed} == theirs
        for ticket_id, expected in self.expected.items():
            if expected.reporter != reporter:
                response = await client.get(f"/api/v1/tickets/{ticket_id}")
                assert response.status_code == 404, ticket_id
                continue
            response = await client.get(f"/api/v1/tickets/{ticket_id}/messages?limit=500")
            messages = (await response.get_json())["items"]
            assert not [m for m in messages if m["internal"] or m["id"] in expected.internal_ids]
        feed = await (await client.get("/api/v1/activity?limit=100")).get_json()
        for event in feed["items"]:
            data = event["data"]
            assert not data.get("internal"), event
            owner = data["reporter"]["id"] if "reporter" in data else None
            if event["kind"] == "message.created":
                owner = (await Ticket.get(id=data["ticket_id"])).reporter_id
            assert owner == me, event
        await self.replay_shows_only_their_own(client, theirs)

    async def replay_shows_only_their_own(self, client: QuartClient, theirs: set[int]) -> None:
        """Over /ws, replaying a ticket's whole log (`since` 0) shows its reporter no internal
        note, and joining someone else's ticket is refused."""
        async with client.websocket("/ws") as ws:
            reader = FrameReader(ws)
            for ticket_id in self.expected:
                room = f"ticket:{ticket_id}"
                if ticket_id in theirs:
                    replayed, _ = await reader.join(room, since=0)
                    assert not [e for e in replayed if e["data"].get("internal")], replayed
                else:
                    await reader.send({"op": "join", "room": room, "since": 0})
                    refusal = await reader.until("error")
                    assert refusal["code"] == "forbidden", refusal


async def all_pages(client: QuartClient, query: str) -> list[dict[str, Any]]:
    """Every ticket a listing query returns, following `next_cursor`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = await client.get(f"/api/v1/tickets?{query}&limit=100{suffix}")
        assert response.status_code == 200, await response.get_data(as_text=True)
        page = await response.get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_random_operations_keep_the_invariants(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Also: the app shuts down afterwards without logging errors."""
    with served(tmp_path, database_url, caplog) as backend:
        machine = type("Machine", (HelpdeskMachine,), {"backend": backend})
        run_state_machine_as_test(machine, settings=fuzz_settings(20, stateful_step_count=30))
