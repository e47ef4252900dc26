"""The numbers that run a helpdesk, computed by SQL aggregates in the database.

Counts are over the same rows the tickets API lists. Windowed figures cover the last `days`
calendar days in UTC, today included: tickets opened in the window, tickets closed in it,
first responses to tickets opened in it, and resolutions of tickets closed in it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..db import read_connection
from ..encoding import isoformat
from ..models import Category, Role, Status, utcnow
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


@dataclass(frozen=True)
class Days:
    per_day: list[dict[str, Any]]
    timed: int  # tickets among them with the duration


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
        counts = await self.counts()
        opened = await self.per_day("created_at", "first_response_seconds")
        closed = await self.per_day("closed_at", "resolution_seconds")
        return {
            "window": {
                "days": self.window.days,
                "category": self.params.get("category"),
                "start": isoformat(self.params["start"]),
            },
            **counts,
            "opened_per_day": opened.per_day,
            "closed_per_day": closed.per_day,
            "first_response_seconds": await self.percentiles(
                "first_response_seconds", "created_at", opened.timed
            ),
            "resolution_seconds": await self.percentiles(
                "resolution_seconds", "closed_at", closed.timed
            ),
            "backlog_age": await self.backlog_age(sum(counts["backlog_by_category"].values())),
            "top_locations": await self.top_locations(),
            "staff_load": await self.staff_load(),
            "known_issues": await self.known_issues(),
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

    async def per_day(self, column: str, duration: str) -> Days:
        """Tickets per day of `column` in the window, and how many of them have a `duration`.

        By day, not by moment, so the count reads the (day, duration) index of migration 0004
        in order, and the durations are counted in the same pass.
        """
        day = self.sql.day(column)
        rows = await self.rows(
            f"SELECT {day} AS day, COUNT(*) AS n, COUNT({duration}) AS timed FROM ticket "
            f"WHERE {day} >= :first_day{self.only_category} GROUP BY {day}",
            first_day=self.params["start"].date(),
        )
        counts = {str(row["day"]): row["n"] for row in rows}  # text on SQLite, a date on PG
        return Days(
            per_day=[
                {"date": day.isoformat(), "count": counts.get(day.isoformat(), 0)}
                for day in self.window.days_of(self.now)
            ],
            timed=sum(int(row["timed"]) for row in rows),
        )

    async def percentiles(
        self, column: str, window_column: str, count: int
    ) -> dict[str, float | None]:
        """Median and p90 with linear interpolation between ranks (as percentile_cont does).

        `count` is how many tickets in the window have the duration (from `per_day`); the two
        rows around each percentile are read from an index sorted by duration, from whichever
        end is nearer (the p90 from the top): a few rows come back, nothing is sorted.
        """
        where = f"{window_column} >= :start AND {column} IS NOT NULL{self.only_category}"
        result: dict[str, float | None] = dict.fromkeys(PERCENTILES)
        if not count:
            return result
        for name, (num, den) in PERCENTILES.items():
            lower, remainder = divmod((count - 1) * num, den)
            from_top = lower + 1 < count and 2 * lower >= count
            rows = await self.rows(
                f"SELECT {column} AS s FROM ticket WHERE {where} "
                f"ORDER BY {column} {'DESC' if from_top else 'ASC'} LIMIT 2 OFFSET :offset",
                offset=count - 2 - lower if from_top else lower,
            )
            values = sorted(float(row["s"]) for row in rows)  # the rank's row, then the next
            if not values:  # the window changed since it was counted: the next summary tells
                continue
            low, high = values[0], values[-1]
            result[name] = round(low + (high - low) * remainder / den, 1)
        return result

    async def backlog_age(self, waiting: int) -> list[dict[str, Any]]:
        """Waiting tickets by age. Each bound's count of younger tickets is a short range of
        the (status, created_at) index, and the buckets are their differences, so only the
        recent backlog is read; the oldest bucket is the rest of the `waiting` tickets."""
        bounded = [(label, age) for label, age in AGE_BUCKETS if age is not None]
        younger, bounds = [], {}
        for index, (_, age) in enumerate(bounded):
            bounds[f"age{index}"] = self.now - age
            younger.append(
                "(SELECT COUNT(*) FROM ticket WHERE status IN ('open', 'active') "
                f"AND created_at > :age{index}{self.only_category}) AS younger{index}"
            )
        row = (await self.rows(f"SELECT {', '.join(younger)}", **bounds))[0]
        totals = [int(row[f"younger{index}"]) for index in range(len(bounded))] + [waiting]
        counts = [totals[0]] + [later - earlier for earlier, later in itertools.pairwise(totals)]
        return [
            {"bucket": label, "count": count}
            for (label, _), count in zip(AGE_BUCKETS, counts, strict=True)
        ]

    async def top_locations(self) -> list[dict[str, Any]]:
        """Buildings with the most waiting tickets: the location's part before its first comma."""
        building = self.sql.building("location")
        rows = await self.rows(
            f"SELECT {building} AS location, "
            "SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open, "
            "SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active "
            f"FROM ticket WHERE status IN ('open', 'active') AND {building} IS NOT NULL"
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
            # The (assignee_id, closed_at) index: each assignee's window, already grouped.
            "SELECT assignee_id, COUNT(*) AS n FROM ticket WHERE closed_at >= :start"
            f"{self.only_category} GROUP BY assignee_id"
        )
        holding = {row["assignee_id"]: int(row["n"]) for row in active}
        finished = {row["assignee_id"]: int(row["n"]) for row in closed}
        # Plain rows, not models (a campus may have hundreds of staff accounts); each row has
        # exactly the columns of `user_ref`, so it is one as it stands.
        staff = await self.rows(
            'SELECT id, username, display_name, role FROM "user" '
            "WHERE role IN (:staff, :admin) AND is_active",
            staff=Role.STAFF.value,
            admin=Role.ADMIN.value,
        )
        load = [
            {
                "user": user,
                "active": holding.get(user["id"], 0),
                "closed_in_window": finished.get(user["id"], 0),
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

    async def known_issues(self) -> dict[str, Any]:
        """Known issues published in the window: the people affected by them, the duplicates
        merged into them, and how long each outage took from its first report (its ticket or
        the earliest duplicate) to being published. Tens of rows a month: counted here."""
        rows = await self.rows(
            "SELECT k.id, k.public_title, k.published_at, t.created_at AS reported_at, "
            "t.affected_count AS affected, (SELECT MIN(d.created_at) FROM ticket d "
            "WHERE d.merged_into_id = k.id) AS duplicate_at, "
            "(SELECT COUNT(*) FROM ticket_merge m WHERE m.known_issue_id = k.id) AS merged "
            "FROM known_issue k JOIN ticket t ON t.id = k.ticket_id "
            f"WHERE k.published_at >= :start AND k.withdrawn_at IS NULL{self.only_category}"
        )
        issues = []
        for row in rows:
            reported = min(
                _moment(each) for each in (row["reported_at"], row["duplicate_at"]) if each
            )
            issues.append(
                {
                    "id": row["id"],
                    "public_title": row["public_title"],
                    "affected_count": int(row["affected"]),
                    "duplicates_merged": int(row["merged"]),
                    "seconds_to_publish": max(
                        0, round((_moment(row["published_at"]) - reported).total_seconds())
                    ),
                }
            )
        waits = sorted(each["seconds_to_publish"] for each in issues)
        issues.sort(key=lambda each: (-each["affected_count"], each["id"]))
        return {
            "published": len(issues),
            "affected_people": sum(each["affected_count"] for each in issues),
            "duplicates_merged": sum(each["duplicates_merged"] for each in issues),
            "seconds_to_publish": {
                name: _interpolated(waits, num, den) for name, (num, den) in PERCENTILES.items()
            },
            "top": issues[:TOP_LOCATIONS],
        }


def _moment(value: datetime | str) -> datetime:
    """A timestamp as the dialect returns it: a datetime on PostgreSQL, ISO text on SQLite."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _interpolated(values: list[int], num: int, den: int) -> float | None:
    """The percentile of sorted `values` as `percentiles` computes it in SQL."""
    if not values:
        return None
    lower, remainder = divmod((len(values) - 1) * num, den)
    low, high = values[lower], values[min(lower + 1, len(values) - 1)]
    return round(low + (high - low) * remainder / den, 1)


async def summarize(window: Window, now: datetime | None = None) -> dict[str, Any]:
    return await Summary(window, now or utcnow()).compute()
