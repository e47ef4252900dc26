"""A fresh database for the app: the schema from `helpdesk init-db`, then bulk rows with sqlite3.

Signing in over HTTP hashes a password with argon2 (~50 ms), far too slow for thousands of
sockets, so users and their sessions are written directly and the cookies signed here the way
quart-auth signs them. Seeding happens once per run; each server gets a copy of the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quart_auth.extension import _AuthSerializer

from .config import REPO_ROOT, SECRET_KEY
from .population import Plan

PROBLEMS = {
    "it": [
        "No wifi",
        "Printer jammed",
        "Projector not working",
        "Cannot log in to the portal",
        "Laptop dock broken",
        "VPN drops every hour",
        "Email not syncing",
    ],
    "facilities": [
        "No heating",
        "Leaking tap",
        "Broken window",
        "Lights flickering",
        "Door lock stuck",
        "Lift out of order",
    ],
    "services": [
        "Cafeteria closing early",
        "Library card not working",
        "Shuttle bus late",
        "Locker will not open",
        "Laundry machine broken",
    ],
}
PLACES = ["Library", "Dorm A", "Dorm B", "Science Building", "Lecture Hall 1", "Gym", "Union"]
REPLIES = [
    "Thanks, we are looking into it.",
    "Still happening this morning, and it is getting worse.",
    "A technician is on the way.",
    "Could you tell us the exact room and when it started?",
    "It works again, thank you!",
    "We ordered the part; it should arrive on Thursday.",
]
STATUS_WEIGHTS = (("open", 10), ("active", 10), ("closed", 80))
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
TICKET_COLUMNS = (
    "id", "title", "description", "category", "location", "priority", "status", "version",
    "created_at", "updated_at", "first_response_at", "closed_at", "last_message_at",
    "assignee_id", "reporter_id",
)  # fmt: skip
# Newer schemas keep durations beside the timestamps they derive from; filled when present.
DERIVED_TICKET_COLUMNS = ("first_response_seconds", "resolution_seconds")
WRITTEN = {
    "user": {"id", "username", "display_name", "email", "password_hash", "role", "is_active",
             "created_at"},
    "auth_session": {"id", "created_at", "expires_at", "user_id"},
    "ticket": set(TICKET_COLUMNS) | set(DERIVED_TICKET_COLUMNS),
    "message": {"id", "body", "internal", "created_at", "client_id", "event_id", "author_id",
                "ticket_id"},
    "status_change": {"id", "from_status", "to_status", "note", "at", "actor_id", "ticket_id"},
}  # fmt: skip
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2g$bm90LWEtcmVhbC1wYXNzd29yZC1oYXNo"
HISTORY = timedelta(days=90)


def stamp(moment: datetime) -> str:
    """The text Tortoise stores for a datetime in SQLite."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


@dataclass(frozen=True)
class Seeded:
    """A seeded database to copy, and a signed session cookie for every user in it."""

    template: Path
    cookies: dict[int, str]
    unfilled: list[str]  # columns of the app's schema the seeder does not know: left empty


async def init_schema(env: dict[str, str]) -> None:
    """The app creates its own schema, so the bench never drifts from helpdesk/models.py."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "helpdesk.cli",
        "init-db",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"helpdesk init-db failed:\n{output.decode(errors='replace')}")


async def seed(env: dict[str, str], database: Path, plan: Plan) -> Seeded:
    await init_schema(env)
    cookies, unfilled = await asyncio.to_thread(_fill, database, plan)
    return Seeded(database, cookies, unfilled)


def stored_messages(database: Path, prefix: str) -> int:
    """Messages whose client id starts with `prefix` that are really in the database (read-only,
    so it can run beside the server)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM message WHERE client_id LIKE ?", (prefix + "%",)
        ).fetchone()
    return count


def copy_database(seeded: Seeded, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded.template, target)
    return target


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def _fill(database: Path, plan: Plan) -> tuple[dict[int, str], list[str]]:
    rng = random.Random(2026)  # the same rows every run, so runs compare
    now = datetime.now(UTC)
    connection = sqlite3.connect(database)
    try:
        unfilled = sorted(
            f"{table}.{column}"
            for table, written in WRITTEN.items()
            for column in _columns(connection, table) - written
        )
        present = _columns(connection, "ticket")
        ticket_columns = TICKET_COLUMNS + tuple(c for c in DERIVED_TICKET_COLUMNS if c in present)
        marks = ", ".join("?" * len(ticket_columns))
        # The column names are this module's constants, never input.
        insert_ticket = f"INSERT INTO ticket ({', '.join(ticket_columns)}) VALUES ({marks})"  # noqa: S608
        connection.execute("PRAGMA synchronous=OFF")
        with connection:
            connection.executemany(
                'INSERT INTO "user" (id, username, display_name, email, password_hash, role, '
                "is_active, created_at) VALUES (?, ?, ?, NULL, ?, ?, 1, ?)",
                _users(plan, now),
            )
            cookies = _sessions(connection, plan, now)
            messages: list[tuple] = []
            changes: list[tuple] = []
            connection.executemany(
                insert_ticket,
                (
                    tuple(row[column] for column in ticket_columns)
                    for row in _tickets(plan, rng, now, messages, changes)
                ),
            )
            connection.executemany(
                "INSERT INTO message (id, body, internal, created_at, client_id, event_id,"
                " author_id, ticket_id) VALUES (?, ?, 0, ?, NULL, NULL, ?, ?)",
                messages,
            )
            connection.executemany(
                "INSERT INTO status_change (from_status, to_status, note, at, actor_id, ticket_id)"
                " VALUES (?, ?, NULL, ?, ?, ?)",
                changes,
            )
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return cookies, unfilled


def _users(plan: Plan, now: datetime) -> Iterator[tuple]:
    joined = stamp(now - HISTORY - timedelta(days=30))
    for i in range(plan.staff):
        yield plan.staff_id(i), f"staff{i:05d}", f"Staff Member {i}", FAKE_HASH, "staff", joined
    for i in range(plan.reporters):
        yield plan.reporter_id(i), f"student{i:06d}", f"Student {i}", FAKE_HASH, "user", joined


def _sessions(connection: sqlite3.Connection, plan: Plan, now: datetime) -> dict[int, str]:
    """One session per user; the cookie value is the token signed as quart-auth signs it."""
    serializer = _AuthSerializer(SECRET_KEY, "quart auth salt")
    created, expires = stamp(now), stamp(now + timedelta(days=7))
    cookies: dict[int, str] = {}
    rows = []
    for user_id in range(1, plan.user_count + 1):
        token = secrets.token_urlsafe(24)
        rows.append((hashlib.sha256(token.encode()).hexdigest(), created, expires, user_id))
        cookies[user_id] = serializer.dumps(token)
    connection.executemany(
        "INSERT INTO auth_session (id, created_at, expires_at, user_id) VALUES (?, ?, ?, ?)", rows
    )
    return cookies


def _tickets(
    plan: Plan, rng: random.Random, now: datetime, messages: list[tuple], changes: list[tuple]
) -> Iterator[dict[str, object]]:
    """Tickets oldest first over 90 days, each with its conversation and status history."""
    statuses = [status for status, weight in STATUS_WEIGHTS for _ in range(weight)]
    categories = list(PROBLEMS)
    per_ticket, extra = divmod(plan.messages, plan.tickets)
    spacing = HISTORY / plan.tickets
    start = now - HISTORY
    message_id = 0
    for ticket_id in range(1, plan.tickets + 1):
        live = ticket_id <= plan.open_prefix
        category = categories[rng.randrange(3)]
        problem = rng.choice(PROBLEMS[category])
        place = rng.choice(PLACES)
        room = rng.randrange(1, 400)
        status = "open" if live else rng.choice(statuses)
        reporter = plan.reporter_of(ticket_id)
        assignee = None if live or status == "open" else plan.staff_id(rng.randrange(plan.staff))
        created = start + spacing * ticket_id
        room_left = now - created
        count = per_ticket + (1 if ticket_id <= extra else 0)
        gap = min(timedelta(minutes=rng.randint(2, 240)), room_left / (count + 2))
        first_response = last_message = None
        for k in range(count):
            message_id += 1
            at = created + gap * (k + 1)
            staff_turn = k % 2 == 1
            author = (assignee or plan.staff_id(0)) if staff_turn else reporter
            if staff_turn and first_response is None:
                first_response = at
            last_message = at
            messages.append((message_id, rng.choice(REPLIES), stamp(at), author, ticket_id))
        moved = created + gap / 2
        closed = created + gap * (count + 1) if status == "closed" else None
        if status != "open":
            changes.append(("open", "active", stamp(moved), assignee, ticket_id))
        if closed is not None:
            changes.append(("active", "closed", stamp(closed), assignee, ticket_id))
        updated = closed or (moved if status == "active" else created)
        yield {
            "id": ticket_id,
            "title": f"{problem} in {place} room {room}",
            "description": f"{problem} since this morning in {place}, room {room}. "
            "Please send someone soon.",
            "category": category,
            "location": f"{place}, room {room}",
            "priority": rng.choice(PRIORITIES),
            "status": status,
            "version": {"open": 1, "active": 2, "closed": 3}[status],
            "created_at": stamp(created),
            "updated_at": stamp(updated),
            "first_response_at": stamp(first_response) if first_response else None,
            "closed_at": stamp(closed) if closed else None,
            "last_message_at": stamp(last_message) if last_message else None,
            "assignee_id": assignee,
            "reporter_id": reporter,
            "first_response_seconds": _seconds(first_response, created),
            "resolution_seconds": _seconds(closed, created),
        }


def _seconds(later: datetime | None, earlier: datetime) -> int | None:
    return None if later is None else round((later - earlier).total_seconds())
