"""The ticket search at scale: `q=` answered by reading every row (LIKE / ILIKE, as before
migration 0012) and from the text indexes (helpdesk/domain/search.py), on the same rows.

    .venv/bin/python -m bench.search [--tickets 100000] [--database-url postgres://...]

Without --database-url it makes an SQLite file in a temporary folder. Each query runs as the
board runs it (a page of 50 in id order, joined to both people, and the count of all matches)
`--repeat` times; the table gives the median and the worst time of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import connections
from tortoise.expressions import Q

from helpdesk import db
from helpdesk.config import Settings, load_settings
from helpdesk.domain.search import ticket_matches, ticket_number
from helpdesk.models import Ticket

from .seed import PLACES, PROBLEMS, stamp

QUERIES = ["printer", "xylophone", "Library room 12", "Student 4242", "#4242", "ab"]
REPORTERS = 5_000
# FTS5 deletes the pages of segments it has merged by rowid range; with statistics taken while
# its tables were empty, SQLite's planner scans the whole index for that instead, and a bulk
# load slows down with every row. The statistics of FTS5's own tables are left out.
FORGET_INDEX_STATISTICS = (
    "DELETE FROM sqlite_stat1 WHERE tbl IN"
    " (SELECT name FROM pragma_table_list WHERE type = 'shadow');"
)


def scanned(text: str) -> Q:
    """The search before the indexes: a LIKE (SQLite) or ILIKE (Tortoise's UPPER() LIKE on
    PostgreSQL) over every row."""
    sqlite = connections.get("default").capabilities.dialect == "sqlite"
    lookup = "contains" if sqlite else "icontains"
    columns = ("title", "description", "location", "reporter__display_name", "reporter__username")
    found = [Q(**{f"{column}__{lookup}": text}) for column in columns]
    number = ticket_number(text)
    if number is not None:
        found.append(Q(id=number))
    return Q(*found, join_type=Q.OR)


def settings_for(url: str, folder: Path) -> Settings:
    return load_settings(
        environ={},
        overrides={"database_url": url, "instance_path": folder, "secret_key": "b" * 32},
    )


async def reconnect_without_index_statistics(settings: Settings) -> None:
    """SQLite reads statistics once per connection, so a fresh one sees them gone."""
    if connections.get("default").capabilities.dialect != "sqlite":
        return
    await connections.get("default").execute_script("ANALYZE; " + FORGET_INDEX_STATISTICS)
    await db.close_database()
    await db.connect(settings)


def rows(tickets: int) -> tuple[list[tuple], list[tuple]]:
    rng = random.Random(2026)
    joined = datetime(2026, 1, 1, tzinfo=UTC)
    users = [
        (f"student{i:06d}", f"Student {i}", "x", "user", True, joined)
        for i in range(1, REPORTERS + 1)
    ]
    reports = []
    for number in range(1, tickets + 1):
        category = rng.choice(list(PROBLEMS))
        problem, place = rng.choice(PROBLEMS[category]), rng.choice(PLACES)
        room = rng.randrange(1, 400)
        created = joined + timedelta(minutes=number)
        reports.append(
            (
                1 + rng.randrange(REPORTERS),
                f"{problem} in {place} room {room}",
                f"{problem} since this morning in {place}, room {room}. Please send someone.",
                category,
                f"{place}, room {room}",
                rng.choice(("open", "active", "closed", "closed", "closed")),
                created,
            )
        )
    return users, reports


async def seed(tickets: int) -> None:
    connection = connections.get("default")
    sqlite = connection.capabilities.dialect == "sqlite"

    def marks(count: int) -> str:
        return ", ".join("?" if sqlite else f"${n}" for n in range(1, count + 1))

    def value(moment: datetime) -> object:
        return stamp(moment) if sqlite else moment

    users, reports = rows(tickets)
    await connection.execute_many(
        'INSERT INTO "user" (username, display_name, password_hash, role, is_active,'  # noqa: S608
        f" created_at) VALUES ({marks(6)})",
        [(*user[:5], value(user[5])) for user in users],
    )
    for start in range(0, len(reports), 10_000):
        await connection.execute_many(
            "INSERT INTO ticket (reporter_id, title, description, category, location,"  # noqa: S608
            " status, created_at, updated_at, priority, version, affected_count)"
            f" VALUES ({marks(8)}, 'normal', 1, 0)",
            [(*each[:6], value(each[6]), value(each[6])) for each in reports[start:][:10_000]],
        )
    if not sqlite:
        # Rows added since the GIN indexes were made wait in their pending lists (read through on
        # every search) until a vacuum merges them in: autovacuum's job in service.
        for table in ("ticket", '"user"'):
            await connection.execute_script(f"VACUUM ANALYZE {table}")


async def timed(filter_for: Callable[[str], Q], text: str, repeat: int) -> tuple[list, list, int]:
    pages, counts, found = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        query = Ticket.all().select_related("reporter", "assignee").filter(filter_for(text))
        await query.order_by("-id").limit(51)
        paged = time.perf_counter()
        found = await Ticket.filter(filter_for(text)).count()
        pages.append((paged - started) * 1000)
        counts.append((time.perf_counter() - paged) * 1000)
    return pages, counts, found


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.1f} {max(times):7.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{Path(folder) / 'search.sqlite3'}"
        settings = settings_for(url, Path(folder))
        await db.connect(settings)
        try:
            await db.migrate(settings)
            await reconnect_without_index_statistics(settings)
            started = time.perf_counter()
            await seed(options.tickets)
            print(f"seeded {options.tickets} tickets in {time.perf_counter() - started:.1f} s")
            await reconnect_without_index_statistics(settings)
            print(f"{'q':<18} {'found':>6}  {'scan page':>15} {'scan count':>15}", end="")
            print(f"  {'index page':>15} {'index count':>15}   (median, worst ms)")
            for text in QUERIES:
                scan_pages, scan_counts, found = await timed(scanned, text, options.repeat)
                index_pages, index_counts, _ = await timed(ticket_matches, text, options.repeat)
                print(
                    f"{text:<18} {found:>6}  {summary(scan_pages)} {summary(scan_counts)}"
                    f"  {summary(index_pages)} {summary(index_counts)}"
                )
        finally:
            await db.close_database()


if __name__ == "__main__":
    asyncio.run(main())
