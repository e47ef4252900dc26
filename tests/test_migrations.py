"""Schema upgrades keep the data, and a server refuses a schema that is behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from helpdesk.config import load_settings
from helpdesk.db import tortoise_config
from tests.command import run_helpdesk as run
from tests.conftest import settings_for


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}


def test_an_upgrade_applies_new_migrations_and_keeps_the_data(tmp_path):
    database = tmp_path / "helpdesk.sqlite3"
    first = run(["migrate", "--to", "0001_initial"], database)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    assert "read_marker" not in tables(database)
    created = run(
        ["create-user", "sam", "--role", "staff", "--password-stdin"],
        database,
        "helpdesk-demo-2026\n",
    )
    assert created.returncode != 0, "the CLI refuses to write to a schema that is behind"
    assert "out of date" in created.stderr
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO user (username, display_name, password_hash, role, is_active, created_at)"
            " VALUES ('kept', 'Kept', 'x', 'user', 1, '2026-01-01 00:00:00+00:00')"
        )

    upgrade = run(["migrate"], database)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "applied 0002_read_markers" in upgrade.stdout
    assert {"read_marker", "ticket_edit"} <= tables(database)
    with sqlite3.connect(database) as connection:
        assert connection.execute(
            "SELECT display_name FROM user WHERE username = 'kept'"
        ).fetchone() == ("Kept",)
    again = run(["migrate"], database)
    assert again.returncode == 0
    assert "applied" not in again.stdout


def test_serve_refuses_a_schema_that_is_behind(tmp_path):
    database = tmp_path / "helpdesk.sqlite3"
    run(["migrate", "--to", "0001_initial"], database)
    result = run(["serve", "--bind", "127.0.0.1:0"], database)
    assert result.returncode != 0
    assert "out of date" in result.stderr
    assert "helpdesk migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_db_creates_a_new_database_at_the_latest_schema(tmp_path):
    database = tmp_path / "new.sqlite3"
    result = run(["init-db"], database)
    assert result.returncode == 0, result.stderr
    expected = {"ticket", "message", "event", "read_marker", "ticket_edit", "tortoise_migrations"}
    assert expected <= tables(database)


async def test_the_migrations_describe_the_models_exactly(tmp_path):
    """A model change without its migration fails here, not on an operator's upgrade."""
    config = tortoise_config(load_settings(overrides=settings_for(tmp_path)))
    await Tortoise.init(config=config)
    try:
        pending = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    finally:
        await Tortoise.close_connections()
    assert [(writer.name, writer.operations) for writer in pending] == []
