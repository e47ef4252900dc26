"""The few SQL spellings that differ between SQLite and PostgreSQL, so the queries stay one text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


class Dialect:
    """SQLite: timestamps are ISO text in UTC, so they compare and slice as strings."""

    name = "sqlite"

    def placeholder(self, index: int) -> str:
        return "?"

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(sep=" ", timespec="microseconds")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def day(self, column: str) -> str:
        """The UTC calendar day of a timestamp, spelled as migration 0004 indexes it."""
        return f"substr({column}, 1, 10)"

    def building(self, column: str) -> str:
        """The part of a location before its first comma: 'Dorm B, room 214' -> 'Dorm B'."""
        return (
            f"trim(CASE WHEN instr({column}, ',') > 0 "
            f"THEN substr({column}, 1, instr({column}, ',') - 1) ELSE {column} END)"
        )


class PostgresDialect(Dialect):
    name = "postgres"

    def placeholder(self, index: int) -> str:
        return f"${index}"

    def value(self, value: Any) -> Any:
        return value

    def day(self, column: str) -> str:
        return f"date(timezone('UTC', {column}))"  # immutable, so it can be indexed

    def building(self, column: str) -> str:
        return f"trim(split_part({column}, ',', 1))"


SQLITE, POSTGRES = Dialect(), PostgresDialect()


def named_rows(rows: Iterable[Sequence[Any]], name: str) -> tuple[list[str], dict[str, Any]]:
    """Placeholders for statements whose length varies (a multi-row VALUES, an IN list): for
    each row its `:name0_0, :name0_1, ...`, and the values by those names, so every value is
    still bound."""
    placeholders, params = [], {}
    for row_index, row in enumerate(rows):
        names = [f"{name}{row_index}_{column}" for column in range(len(row))]
        params.update(zip(names, row, strict=True))
        placeholders.append(", ".join(f":{each}" for each in names))
    return placeholders, params


def dialect_of(connection: BaseDBAsyncClient) -> Dialect:
    return POSTGRES if connection.capabilities.dialect == "postgres" else SQLITE


@lru_cache(maxsize=1024)
def _positional(sql: str, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:names` turned into the dialect's placeholders, and the names in order:
    worked out once per text, since the hot statements repeat."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return dialect.placeholder(len(names))

    return _NAMED.sub(replace, sql), tuple(names)


class Database:
    """Runs named-parameter SQL (`:start`) in the connection's own dialect: the default one,
    or a transaction's."""

    def __init__(self, connection: BaseDBAsyncClient | None = None) -> None:
        self.connection = connection or connections.get("default")
        self.dialect = dialect_of(self.connection)

    def bind(self, sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
        query, names = _positional(sql, self.dialect)
        value = self.dialect.value
        return query, [value(params[name]) for name in names]

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        query, values = self.bind(sql, params)
        return await self.connection.execute_query_dict(query, values)

    async def execute(self, sql: str, **params: Any) -> None:
        query, values = self.bind(sql, params)
        await self.connection.execute_query(query, values)
