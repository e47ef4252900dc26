"""The report export: every ticket opened in the window with its timings, as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from ..db import read_connection
from ..encoding import isoformat
from ..models import Ticket, seconds_between, utcnow
from .queries import Window

COLUMNS = [
    "id",
    "created_at",
    "title",
    "category",
    "location",
    "priority",
    "status",
    "reporter",
    "assignee",
    "first_response_at",
    "first_response_seconds",
    "closed_at",
    "resolution_seconds",
]
CHUNK = 500
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def row_of(ticket: Ticket) -> list[Any]:
    return [
        cell(value)
        for value in (
            ticket.id,
            isoformat(ticket.created_at),
            ticket.title,
            ticket.category.value,
            ticket.location or "",
            ticket.priority.value,
            ticket.status.value,
            ticket.reporter.username,
            ticket.assignee.username if ticket.assignee else "",
            isoformat(ticket.first_response_at) or "",
            seconds_between(ticket.first_response_at, ticket.created_at),
            isoformat(ticket.closed_at) or "",
            seconds_between(ticket.closed_at, ticket.created_at),
        )
    ]


async def report_csv(window: Window, now: datetime | None = None) -> AsyncIterator[str]:
    """Streams in chunks by id, so a large window never sits in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    query = Ticket.filter(created_at__gte=window.start(now or utcnow()))
    if window.category is not None:
        query = query.filter(category=window.category)
    after = 0
    while True:
        chunk = (
            await query.filter(id__gt=after)
            .select_related("reporter", "assignee")
            .order_by("id")
            .limit(CHUNK)
            .using_db(read_connection())
        )
        for ticket in chunk:
            writer.writerow(row_of(ticket))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(chunk) < CHUNK:
            return
        after = chunk[-1].id
