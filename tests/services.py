"""The services tests use for real: a migrated SQLite file copied per test, a PostgreSQL database
made once per session and emptied before each test, and the machine's Redis. One that is not
reachable skips its tests, or fails them when HELPDESK_REQUIRE_SERVICES=1 (as in CI)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import redis

from helpdesk import db
from helpdesk.config import load_settings

T = TypeVar("T")
POSTGRES_SERVER = os.environ.get(
    "HELPDESK_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
SHARED_REDIS = os.environ.get("HELPDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TABLES = [
    "saved_filter",
    "fan_out",
    "ticket_merge",
    "known_issue_update",
    "affected",
    "known_issue",
    "attachment",
    "audit_entry",
    "mailed_token",
    "outbox_mail",
    "pending_notification",
    "consumer_cursor",
    "read_marker",
    "event",
    "status_change",
    "message",
    "ticket",
    "auth_session",
    "user",
]


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a thread of its own (this thread may have a loop)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


def services_required() -> bool:
    return os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error.__class__.__name__}: {error})"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


async def _migrate(database_url: str, instance: Path) -> None:
    settings = load_settings(
        environ={},
        overrides={
            "database_url": database_url,
            "instance_path": instance,
            "secret_key": "x" * 32,
        },
    )
    await db.connect(settings)
    try:
        await db.migrate(settings)
    finally:
        await db.close_database()


def migrated_sqlite(folder: Path) -> Path:
    path = folder / "template.sqlite3"
    run_sync(_migrate(f"sqlite:///{path}", folder / "instance"))
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "helpdesk.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


class PostgresDatabase:
    """One database for the whole session, so every test needs only a TRUNCATE."""

    def __init__(self, folder: Path) -> None:
        self.name = f"helpdesk_test_{uuid.uuid4().hex[:10]}"
        self.server = POSTGRES_SERVER
        self.url = POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{self.name}"
        self.folder = folder

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(self.server, timeout=3)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def create(self) -> PostgresDatabase:
        run_sync(self._admin(f'CREATE DATABASE "{self.name}"'))
        run_sync(_migrate(self.url, self.folder / "instance"))
        return self

    def empty(self) -> str:
        async def truncate() -> None:
            connection = await asyncpg.connect(self.url, timeout=3)
            try:
                tables = ", ".join(f'"{table}"' for table in TABLES)
                await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            finally:
                await connection.close()

        run_sync(truncate())
        return self.url

    def drop(self) -> None:
        run_sync(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def redis_reachable(url: str = SHARED_REDIS) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as error:
        unavailable("Redis", error)
