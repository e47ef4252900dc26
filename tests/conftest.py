"""Fixtures: an app on a fresh database, and a signed-in test client per role."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from quart.typing import TestClientProtocol
from quart_auth import QuartAuth
from tortoise.backends.base.executor import EXECUTOR_CACHE

from helpdesk import create_app
from helpdesk.allowances import Allowances
from helpdesk.domain.accounts import start_session
from helpdesk.domain.events import EventLog
from helpdesk.models import Role, User
from helpdesk.web.context import HelpdeskApp
from tests.services import PostgresDatabase, migrated_sqlite, sqlite_copy, unavailable

PASSWORD = "campus-demo-2026"
REQUIRE_SERVICES = os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"
_password_hash: str | None = None


async def shared_hash() -> str:
    """One argon2 hash of PASSWORD for every test user: hashing per user would slow the suite."""
    global _password_hash
    if _password_hash is None:
        from helpdesk.domain.accounts import hash_password

        _password_hash = await hash_password(PASSWORD)
    return _password_hash


def settings_for(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "database_url": "sqlite://:memory:",
        "instance_path": tmp_path / "instance",
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        **overrides,
    }


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresDatabase]:
    try:
        database = PostgresDatabase(tmp_path_factory.mktemp("postgres")).create()
    except (OSError, asyncpg.PostgresError) as error:
        unavailable("PostgreSQL", error)
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Every test that uses the app runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_copy(sqlite_template, tmp_path)
    return request.getfixturevalue("postgres").empty()


@pytest.fixture
def app_settings(tmp_path: Path, database_url: str) -> dict[str, Any]:
    return settings_for(tmp_path, database_url=database_url)


@pytest.fixture
async def app(app_settings: dict[str, Any]) -> AsyncIterator[HelpdeskApp]:
    """A served app (before_serving ran: database open, hub started) on a fresh database."""
    # Tortoise caches each model's INSERT text per connection name, not per dialect: tests
    # switch between SQLite and PostgreSQL in one process, so start every app from a clean slate.
    EXECUTOR_CACHE.clear()
    application = create_app(app_settings)
    async with application.test_app():
        yield application


@pytest.fixture
def event_log(app: HelpdeskApp) -> EventLog:
    return app.event_log


def unlimited_allowances() -> Allowances:
    """Allowances a domain test never runs into: the limits have tests of their own."""
    plenty = 1_000_000
    return Allowances.build(
        "memory://",
        "test",
        login_max_failures=plenty,
        login_window_seconds=60,
        registrations_per_hour=plenty,
        chat_messages=plenty,
        chat_window_seconds=10,
        reports_per_hour=plenty,
        account_mails_per_hour=plenty,
        uploads_per_hour=plenty,
    )


async def make_user(
    username: str,
    role: Role = Role.USER,
    *,
    display_name: str | None = None,
    is_active: bool = True,
) -> User:
    return await User.create(
        username=username,
        display_name=display_name or username.title(),
        password_hash=await shared_hash(),
        role=role,
        is_active=is_active,
    )


async def signed_in_client(app: HelpdeskApp, user: User | None) -> TestClientProtocol:
    """A test client with a real server-side session for `user` (None: anonymous)."""
    client = app.test_client()
    if user is not None:
        token = await start_session(user)
        auth: QuartAuth = app.extensions["QUART_AUTH"][0]
        client.set_cookie("localhost", auth.cookie_name, auth.dump_token(token, app=app))
    return client


@dataclass
class Actor:
    user: User | None
    client: TestClientProtocol

    @property
    def id(self) -> int:
        assert self.user is not None
        return self.user.id


@dataclass
class Cast:
    """Everyone a rule can be about."""

    reporter: Actor
    other: Actor
    staff: Actor
    admin: Actor
    anonymous: Actor


@pytest.fixture
async def cast(app: HelpdeskApp) -> Cast:
    async def actor(username: str | None, role: Role = Role.USER) -> Actor:
        user = await make_user(username, role) if username else None
        return Actor(user, await signed_in_client(app, user))

    return Cast(
        reporter=await actor("rita"),
        other=await actor("oscar"),
        staff=await actor("sam", Role.STAFF),
        admin=await actor("ada", Role.ADMIN),
        anonymous=await actor(None),
    )


TICKET = {
    "title": "No wifi in Dorm B",
    "description": "Eduroam is gone since this morning.",
    "category": "it",
    "location": "Dorm B, room 214",
}


async def create_ticket(client: TestClientProtocol, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json={**TICKET, **fields})
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def json_of(response: Any) -> Any:
    return await response.get_json()
