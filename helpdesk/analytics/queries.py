"""The numbers that run a helpdesk, computed by SQL aggregates in the database.

Counts are over the same rows the tickets API lists. Windowed figures cover the last `days`
calendar days in UTC, today included: tickets opened in the window, tickets closed in it,
first responses to tickets opened in it, and resolutions of tickets closed in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..db import read_connection
from ..domain.serialize import user_ref
from ..encoding import isoformat
from ..models import Category, Role, Status, User, utcnow
from ..sql import Database

MAX_DAYS = 365
TOP_LOCATIONS = 10
# (label, tickets younger than this); the last bucket takes the rest.
AGE_BUCKETS: list[tuple[str, timedelta | None]] = [
    ("<1h", timedelta(hours=1)),
    ("1h-1d", timedelta(days=1)),
    ("1d-3d", timedelta(days=3)),
    ("3d-7d", timedelta(days=7)),
    (">7d", None),
]
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}  # fractions, so ranks are exact integers


@dataclass(frozen=True)
class Window:
    days: int = 30
    category: Category | None = None

    def start(self, now: datetime) -> datetime:
        first_day = now.astimezone(UTC).date() - timedelta(days=self.days - 1)
        return datetime.combine(first_day, time(0), UTC)

    def days_of(self, now: datetime) -> list[date]:
        first = self.start(now).date()
        return [first + timedelta(days=offset) for offset in range(self.days)]


class Summary:
    """One summary computation: shared connection, dialect and filter for all its queries."""

    def __init__(self, window: Window, now: datetime) -> None:
        self.window = window
        self.now = now
        self.db = Database(read_connection())
        self.sql = self.db.dialect
        self.params: dict[str, Any] = {"start": window.start(now)}
        self.only_category = ""
        if window.category is not None:
            self.only_category = " AND category = :category"
            self.params["category"] = window.category.value

    async def rows(self, sql: str, **extra: Any) -> list[dict[str, Any]]:
        return await self.db.rows(sql, **self.params, **extra)

    async def compute(self) -> dict[str, Any]:
        return {
            "window": {
                "days": self.window.days,
                "category": self.params.get("category"),
                "start": isoformat(self.params["start"]),
            },
            **await self.counts(),
            "opened_per_day": await self.per_day("created_at"),
            "closed_per_day": await self.per_day("closed_at"),
            "first_response_seconds": await self.percentiles(
                "first_response_seconds", "created_at"
            ),
            "resolution_seconds": await self.percentiles("resolution_seconds", "closed_at"),
            "backlog_age": await self.backlog_age(),
            "top_locations": await self.top_locations(),
            "staff_load": await self.staff_load(),
            "generated_at": isoformat(self.now),
        }

    async def counts(self) -> dict[str, dict[str, int]]:
        """Tickets by status, by category, and the backlog (open or active) by category: one
        scan of the (category, status) index, grouped by both."""
        rows = await self.rows(
            "SELECT category, status, COUNT(*) AS n FROM ticket "
            f"WHERE 1 = 1{self.only_category} GROUP BY category, status"
        )
        by_status = dict.fromkeys((status.value for status in Status), 0)
        by_category = dict.fromkeys((category.value for category in Category), 0)
        backlog = dict.fromkeys((category.value for category in Category), 0)
        for row in rows:
            by_status[row["status"]] += row["n"]
            by_category[row["category"]] += row["n"]
            if row["status"] != Status.CLOSED.value:
                backlog[row["category"]] += row["n"]
        return {"by_status": by_status, "by_category": by_category, "backlog_by_category": backlog}

    async def per_day(self, column: str) -> list[dict[str, Any]]:
        day = self.sql.day(column)
        rows = await self.rows(
            f"SELECT {day} AS day, COUNT(*) AS n FROM ticket "
            f"WHERE {column} >= :start{self.only_category} GROUP BY {day}"
        )
        counts = {row["day"]: row["n"] for row in rows}
        return [
            {"date": day.isoformat(), "count": counts.get(day.isoformat(), 0)}
            for day in self.window.days_of(self.now)
        ]

    async def percentiles(self, column: str, window_column: str) -> dict[str, float | None]:
        """Median and p90 with linear interpolation between ranks (as percentile_cont does).

        The database counts the window, then reads the two rows around each percentile from
        an index sorted by duration: a few rows come back, nothing is sorted per request.
        """
        where = f"{window_column} >= :start AND {column} IS NOT NULL{self.only_category}"
        count = (await self.rows(f"SELECT COUNT(*) AS n FROM ticket WHERE {where}"))[0]["n"]
        if not count:
            return dict.fromkeys(PERCENTILES)
        result = {}
        for name, (num, den) in PERCENTILES.items():
            lower, remainder = divmod((count - 1) * num, den)
            rows = await self.rows(
                f"SELECT {column} AS s FROM ticket WHERE {where} "
                f"ORDER BY {column} LIMIT 2 OFFSET :offset",
                offset=lower,
            )
            low = float(rows[0]["s"])
            high = float(rows[1]["s"]) if len(rows) > 1 else low
            result[name] = round(low + (high - low) * remainder / den, 1)
        return result

    async def backlog_age(self) -> list[dict[str, Any]]:
        cases, bounds = [], {}
        for index, (label, younger_than) in enumerate(AGE_BUCKETS):
            if younger_than is None:
                cases.append(f"ELSE '{label}'")
            else:
                bounds[f"age{index}"] = self.now - younger_than
                cases.append(f"WHEN created_at > :age{index} THEN '{label}'")
        rows = await self.rows(
            f"SELECT CASE {' '.join(cases)} END AS bucket, COUNT(*) AS n FROM ticket "
            f"WHERE status IN ('open', 'active'){self.only_category} GROUP BY 1",
            **bounds,
        )
        counts = {row["bucket"]: row["n"] for row in rows}
        return [{"bucket": label, "count": counts.get(label, 0)} for label, _ in AGE_BUCKETS]

    async def top_locations(self) -> list[dict[str, Any]]:
        """Buildings with the most waiting tickets: the location's part before its first comma."""
        building = self.sql.building("location")
        rows = await self.rows(
            f"SELECT {building} AS location, "
            "SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open, "
            "SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active "
            "FROM ticket WHERE status IN ('open', 'active') AND location IS NOT NULL"
            f"{self.only_category} GROUP BY {building} "
            f"ORDER BY COUNT(*) DESC, {building} LIMIT {TOP_LOCATIONS}"
        )
        return [
            {"location": row["location"], "open": int(row["open"]), "active": int(row["active"])}
            for row in rows
        ]

    async def staff_load(self) -> list[dict[str, Any]]:
        """Active staff: what each holds now, and how many they closed in the window (two
        grouped counts, each read from an index, rather than a join over every ticket)."""
        active = await self.rows(
            "SELECT assignee_id, COUNT(*) AS n FROM ticket WHERE status = 'active'"
            f"{self.only_category} GROUP BY assignee_id"
        )
        closed = await self.rows(
            # Grouping without the assignee index keeps SQLite from walking all of it: the
            # closed_at index then reads only the window.
            "SELECT assignee_id, COUNT(*) AS n FROM ticket WHERE closed_at >= :start"
            f"{self.only_category} GROUP BY {self.sql.without_index('assignee_id')}"
        )
        holding = {row["assignee_id"]: int(row["n"]) for row in active}
        finished = {row["assignee_id"]: int(row["n"]) for row in closed}
        staff = await User.filter(role__in=[Role.STAFF, Role.ADMIN], is_active=True).using_db(
            self.db.connection
        )
        load = [
            {
                "user": user_ref(user),
                "active": holding.get(user.id, 0),
                "closed_in_window": finished.get(user.id, 0),
            }
            for user in staff
        ]
        load.sort(
            key=lambda item: (
                -item["active"],
                -item["closed_in_window"],
                item["user"]["display_name"],
            )
        )
        return load


async def summarize(window: Window, now: datetime | None = None) -> dict[str, Any]:
    return await Summary(window, now or utcnow()).compute()
