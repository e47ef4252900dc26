"""Tortoise's SQLite client, with write transactions that take the write lock when they begin.

A deferred `BEGIN` that reads first and writes later fails at once with "database is locked"
when another process writes meanwhile (waiting could deadlock, so SQLite does not wait).
`BEGIN IMMEDIATE` takes the lock up front, so a second writer (a CLI command, another worker)
waits for the busy timeout instead of failing. When the lock cannot be had at all (a read-only
or full database), the transaction fails cleanly and leaves the connection usable.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        # Tortoise opens SQLite in autocommit mode (isolation_level=None), so there is no
        # implicit transaction to end first: Tortoise's COMMIT before BEGIN is a wasted round
        # trip to the connection's thread on every change.
        try:
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:  # read-only, full, or still locked: say so
            raise OperationalError(error) from error


class ImmediateTransactionContext(SqliteTransactionContext):
    """Tortoise's context keeps its lock and connection binding when BEGIN fails, which leaves
    every later query waiting forever; this one gives both back."""

    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> ImmediateTransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
