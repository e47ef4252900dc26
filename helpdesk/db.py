"""Opening and closing the database (SQLite or PostgreSQL), and keeping its schema current
through Tortoise's migrations in `helpdesk/migrations`."""

from __future__ import annotations

import logging
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError, OperationalError
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from .config import Settings

log = logging.getLogger(__name__)
MODEL_MODULES = ["helpdesk.models"]
MIGRATIONS_MODULE = "helpdesk.migrations"
APP_LABEL = "models"
SQLITE_ENGINE = "helpdesk.sqlite_backend"
SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    "foreign_keys": "ON",
    "synchronous": "NORMAL",  # durable across a process crash; WAL keeps it consistent
    "busy_timeout": 5000,  # other processes (the CLI, a second worker) wait instead of failing
}

# Reports read whole indexes: through a memory map they come straight from the OS page cache,
# instead of being copied into this connection's own small cache (2 MB) one read at a time,
# which made the first report after start-up three times slower than the next.
READER_MMAP_BYTES = 256 * 1024 * 1024


class SchemaOutOfDate(RuntimeError):
    """The database has migrations still to apply; the message says how."""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    connection = expand_db_url(settings.database_url)
    credentials = connection["credentials"]
    connections_config = {"default": connection}
    if connection["engine"] == "tortoise.backends.sqlite":
        connection["engine"] = SQLITE_ENGINE
        credentials.update(SQLITE_PRAGMAS)
        if credentials["file_path"] != ":memory:":  # an in-memory database is one connection
            reader = {
                "engine": SQLITE_ENGINE,
                "credentials": {**credentials, "query_only": 1, "mmap_size": READER_MMAP_BYTES},
            }
            connections_config["reader"] = reader
    else:
        credentials.setdefault("min_size", 1)
        credentials.setdefault("max_size", settings.db_pool_size)
        credentials.setdefault("server_settings", {"timezone": "UTC"})
    return {
        "connections": connections_config,
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _executor(settings: Settings) -> MigrationExecutor:
    apps = tortoise_config(settings)["apps"]
    return MigrationExecutor(connections.get("default"), apps)


async def pending_migrations(settings: Settings) -> list[str]:
    steps = await _executor(settings).plan()
    return [step.migration.name for step in steps if not step.backward]


async def migrate(settings: Settings, target: str | None = None) -> list[str]:
    """Apply migrations (up to `target`, a migration name); returns the names applied."""
    executor = _executor(settings)
    targets = [MigrationTarget(APP_LABEL, target)] if target else None
    steps = [step.migration.name for step in await executor.plan(targets)]
    await executor.migrate(targets)
    await refresh_statistics()
    return steps


async def _is_empty() -> bool:
    """No tables of ours yet: a new database that `serve` may set up by itself."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'ticket'"
    else:
        sql = "SELECT tablename AS name FROM pg_tables WHERE tablename = 'ticket'"
    _, rows = await connection.execute_query(sql)
    return not rows


async def connect(settings: Settings) -> None:
    """Connect as the process-wide fallback context, so every task sees the connection."""
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def open_database(settings: Settings, *, create_schema: bool) -> None:
    """Connect and check the schema: a new database gets every migration when `create_schema`;
    one that is behind is refused, since migrating under running servers is an operator's call.
    """
    await connect(settings)
    try:
        pending = await pending_migrations(settings)
        if not pending:
            await refresh_statistics()
            return
        empty = await _is_empty()
        if empty and create_schema:
            await migrate(settings)
            return
    except BaseException:
        await Tortoise.close_connections()  # a connection left open keeps the process alive
        raise
    await Tortoise.close_connections()
    if empty:
        raise SchemaOutOfDate("the database is empty; run `helpdesk init-db` to create it")
    raise SchemaOutOfDate(
        f"the database schema is out of date ({', '.join(pending)} not applied); "
        "stop the servers and run `helpdesk migrate`"
    )


async def refresh_statistics() -> None:
    """Give SQLite's query planner row counts to choose indexes by (PostgreSQL's autovacuum
    keeps its own): about 150 ms for 100,000 tickets, once at start-up.

    Only the ordinary tables: statistics of FTS5's own tables (migration 0012), taken while
    they are small, make SQLite scan a whole text index each time FTS5 merges its pages, and
    writes slow down as the index grows (100,000 tickets seeded in 783 s instead of 15 s).
    """
    connection = connections.get("default")
    if connection.capabilities.dialect != "sqlite":
        return
    try:
        rows = await connection.execute_query_dict(
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
            "AND name NOT LIKE 'sqlite%'"
        )
        # Names from the database's own catalogue, quoted as identifiers.
        tables = [row["name"].replace('"', '""') for row in rows]
        script = "".join(f'ANALYZE "{table}";' for table in tables)
        await connection.execute_script(
            script + "DELETE FROM sqlite_stat1 WHERE tbl IN "  # noqa: S608
            "(SELECT name FROM pragma_table_list WHERE type = 'shadow');"
        )
    except OperationalError as error:  # a read-only database still serves reads
        log.warning("could not refresh the query planner's statistics: %s", error)


def read_connection() -> BaseDBAsyncClient:
    """The connection for reports and other long reads.

    SQLite serializes everything on one connection, so a 100 ms report there would stall every
    chat write behind it; in WAL mode a second, query-only connection reads beside the writes.
    PostgreSQL's pool already gives each query its own connection.
    """
    try:
        return connections.get("reader")
    except ConfigurationError:
        return connections.get("default")


async def close_database() -> None:
    await Tortoise.close_connections()


def __getattr__(name: str) -> Any:
    """`TORTOISE_ORM` for Tortoise's own CLI (`tortoise -c helpdesk.db.TORTOISE_ORM ...`),
    built from the environment only when asked for."""
    if name == "TORTOISE_ORM":
        from .config import load_settings

        return tortoise_config(load_settings())
    raise AttributeError(name)
