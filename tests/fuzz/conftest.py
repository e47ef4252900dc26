"""Fixtures for fuzzing: a served app with its throttles raised, and a small world of tickets,
messages and people for fuzzed requests to run into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from quart.typing import TestClientProtocol
from tortoise.backends.base.executor import EXECUTOR_CACHE

import tests.conftest
from helpdesk import create_app
from helpdesk.domain import accounts
from helpdesk.models import Role, User
from helpdesk.web.context import HelpdeskApp
from tests.conftest import PASSWORD, create_ticket, settings_for, signed_in_client
from tests.fuzz.support import FUZZ_OVERRIDES
from tests.services import sqlite_copy

ACTORS = ("reporter", "other", "staff", "admin", "anonymous")
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes ~0.2 s per hash on this machine, and fuzzed sign-ins and
    password changes reach it hundreds of times: same code paths, cheaper parameters. The test
    users' shared hash is swapped too, and everything is restored after each test."""
    monkeypatch.setattr(accounts, "_hasher", CHEAP_HASHER)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", CHEAP_HASHER.hash("not-anyones-password"))
    monkeypatch.setattr(tests.conftest, "_password_hash", CHEAP_HASHER.hash(PASSWORD))


@dataclass
class World:
    """Tickets in every status, public replies and an internal note, and who can sign in."""

    app: HelpdeskApp
    users: dict[str, User | None]
    ticket_ids: list[int]
    message_ids: list[int]

    @property
    def ids(self) -> list[int]:
        """Ids worth aiming at: rows that exist, and one just past them."""
        users = [user.id for user in self.users.values() if user is not None]
        return sorted({*self.ticket_ids, *self.message_ids, *users, max(self.ticket_ids) + 1})

    def user_id(self, actor: str) -> int:
        user = self.users[actor]
        assert user is not None
        return user.id

    async def new_ticket(self) -> int:
        """An open ticket of the reporter's, for a request that changes the one it names."""
        return (await create_ticket(await self.client("reporter")))["id"]

    async def client(self, actor: str) -> TestClientProtocol:
        """A fresh session per example, so a fuzzed logout or deactivation in one example does
        not leave the next one signed out."""
        await User.filter(is_active=False).update(is_active=True)
        return await signed_in_client(self.app, self.users[actor])


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
) -> AsyncIterator[World]:
    """One served app and world per test module and database, shared by all its tests and
    their examples (building them per route would cost more than fuzzing the route). Modules
    that use it run their tests on the module's event loop."""
    folder = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        database_url = sqlite_copy(sqlite_template, folder)
    else:
        database_url = request.getfixturevalue("postgres").empty()
    EXECUTOR_CACHE.clear()  # see the root conftest: Tortoise caches SQL per connection name
    app = create_app(settings_for(folder, database_url=database_url, **FUZZ_OVERRIDES))
    async with app.test_app():
        yield await populate(app)


async def populate(app: HelpdeskApp) -> World:
    """Four people (cheaply hashed passwords), a ticket of each kind, and a conversation."""
    cheap = CHEAP_HASHER.hash(PASSWORD)
    roles = {"reporter": Role.USER, "other": Role.USER, "staff": Role.STAFF, "admin": Role.ADMIN}
    users: dict[str, User | None] = {
        actor: await User.create(
            username=actor, display_name=actor.title(), password_hash=cheap, role=role
        )
        for actor, role in roles.items()
    }
    users["anonymous"] = None
    clients = {actor: await signed_in_client(app, user) for actor, user in users.items()}
    mine = await create_ticket(clients["reporter"])
    theirs = await create_ticket(clients["other"], category="facilities", location="Dorm B")
    staffs = await create_ticket(clients["staff"], category="services", location=None)
    message_ids = []
    for actor, body in (
        ("reporter", {"body": "Still broken"}),
        ("staff", {"body": "On it"}),
        ("staff", {"body": "Router 4 again", "internal": True}),
    ):
        response = await clients[actor].post(f"/api/v1/tickets/{mine['id']}/messages", json=body)
        assert response.status_code == 201
        message_ids.append((await response.get_json())["id"])
    for status in ("active", "closed"):
        response = await clients["staff"].post(
            f"/api/v1/tickets/{theirs['id']}/status", json={"status": status}
        )
        assert response.status_code == 200
    return World(app, users, [mine["id"], theirs["id"], staffs["id"]], message_ids)
