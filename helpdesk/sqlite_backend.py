"""Tortoise's SQLite client, with write transactions that take the write lock when they begin.

A deferred `BEGIN` that reads first and writes later fails at once with "database is locked"
when another process writes meanwhile (waiting could deadlock, so SQLite does not wait).
`BEGIN IMMEDIATE` takes the lock up front, so a second writer (a CLI command, another worker)
waits for the busy timeout instead of failing.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise TransactionManagementError(error) from error


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
