"""Opening and closing the database: one Tortoise setup for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from .config import Settings

MODEL_MODULES = ["helpdesk.models"]
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "foreign_keys": "ON",
    "synchronous": "NORMAL",  # durable across a process crash; WAL keeps it consistent
    "busy_timeout": 5000,  # other processes (the CLI, a second worker) wait instead of failing
}


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection = expand_db_url(settings.database_url)
    credentials = connection["credentials"]
    if connection["engine"] == "tortoise.backends.sqlite":
        credentials.update(SQLITE_PRAGMAS)
    else:
        credentials.setdefault("min_size", 1)
        credentials.setdefault("max_size", settings.db_pool_size)
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings, *, create_schema: bool) -> None:
    """Connect (as the process-wide fallback context, so every task sees it) and create tables."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    if create_schema:
        await Tortoise.generate_schemas(safe=True)


async def close_database() -> None:
    await Tortoise.close_connections()
