"""The text indexes of migration 0012: the ticket search finds exactly what reading every row
by the documented rule finds, the suggestions find known issues and duplicates by their words,
the triggers follow every change, and the queries are answered from the indexes."""

from __future__ import annotations

import re
import string
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tortoise import connections
from tortoise.transactions import in_transaction

from helpdesk import db
from helpdesk.config import load_settings
from helpdesk.domain.fields import MAX_ID
from helpdesk.domain.search import (
    DUPLICATES_SQL,
    KNOWN_ISSUES_SQL,
    similar_known_issues,
    similar_tickets,
    ticket_matches,
)
from helpdesk.errors import NotFound, ValidationFailed
from helpdesk.models import KnownIssue, Role, Status, Ticket, User, utcnow
from helpdesk.sql import Database
from tests.conftest import make_user

# Letters whose case differs between ASCII, simple lowercasing and simple case folding (sharp s
# and its capital, the three sigmas, long s, the Kelvin sign, dotted and dotless i), a few
# ordinary accented letters, LIKE's wildcards and escape, and FTS5's query syntax.
CHARACTERS = [*"aAbBkKzZ019 #éÉüÜßẞΣ\u03c3\u03c2\u017f\u212a\u0131I\u0130i%_\\\"'*():^+-.,"]
FRAGMENTS = [*CHARACTERS, "NEAR", "AND", "OR", "NOT", "near(", "Müller", "MÜLLER", "wifi"]
TEXT = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join)
USERNAME = st.text(alphabet=string.ascii_lowercase + string.digits + "._-", min_size=3, max_size=8)
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
NUMBER = re.compile(r"#?\s*([0-9]{1,10})")


def simple_fold(character: str) -> str:
    """Unicode's simple case folding of one character, as FTS5's trigram tokenizer folds it."""
    folded = character.casefold()
    if len(folded) == 1:
        return folded
    lowered = character.lower()
    return lowered if len(lowered) == 1 else character


def simple_lower(character: str) -> str:
    """Unicode's simple lowercase of one character, as PostgreSQL's lower() gives it."""
    return "i" if character == "\u0130" else character.lower()


def folded(text: str, dialect: str, needle: str) -> str:
    """`text` as the documented rule compares it when looking for `needle`."""
    if dialect == "postgres":
        return "".join(map(simple_lower, text))
    if len(needle) >= 3:
        return "".join(map(simple_fold, text))
    return text.translate(ASCII_LOWER)  # LIKE


def scan(tickets: list[Ticket], reporters: dict[int, User], text: str, dialect: str) -> set[int]:
    """The documented rule, applied row by row in Python."""
    needle = folded(text, dialect, text)
    number = NUMBER.fullmatch(text.strip())
    wanted = int(number[1]) if number and 1 <= int(number[1]) <= MAX_ID else None
    found = set()
    for ticket in tickets:
        reporter = reporters[ticket.reporter_id]
        fields = (ticket.title, ticket.description, ticket.location or "")
        fields += (reporter.display_name, reporter.username)
        if ticket.id == wanted or any(needle in folded(each, dialect, text) for each in fields):
            found.add(ticket.id)
    return found


def dialect() -> str:
    return connections.get("default").capabilities.dialect


async def searched(text: str) -> set[int]:
    """The search as the ticket list runs it: joined to both people, filtered by the index."""
    query = Ticket.all().select_related("reporter", "assignee").filter(ticket_matches(text))
    found = {ticket.id for ticket in await query}
    assert await Ticket.filter(ticket_matches(text)).count() == len(found)
    return found


ROWS = st.lists(st.tuples(TEXT, TEXT, st.none() | TEXT, TEXT, USERNAME), min_size=1, max_size=6)


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    # One app and database for all examples: each example removes what it made.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS, data=st.data())
async def test_the_indexed_search_finds_exactly_what_a_scan_finds(app, rows, data):
    reporters: dict[int, User] = {}
    tickets = []
    for index, (title, description, location, name, username) in enumerate(rows):
        reporter = await User.create(
            username=f"{username}{index}", display_name=name, password_hash="x"
        )
        reporters[reporter.id] = reporter
        ticket = await Ticket.create(
            reporter=reporter,
            title=title,
            description=description,
            category="it",
            location=location,
        )
        tickets.append(ticket)
    try:
        pieces = [t for ticket in tickets for t in (ticket.title, ticket.description)]
        pieces += [reporter.display_name for reporter in reporters.values()]
        piece = data.draw(st.sampled_from(pieces))
        start = data.draw(st.integers(0, len(piece) - 1))
        part = piece[start : data.draw(st.integers(start + 1, len(piece)))]
        queries = [
            data.draw(TEXT),
            part,
            "_" + part[1:],  # a literal underscore, no wildcard
            part.swapcase(),
            part.upper(),
            f"#{data.draw(st.sampled_from(tickets)).id}",
        ]
        for text in queries:
            assert await searched(text) == scan(tickets, reporters, text, dialect()), text
    finally:
        for ticket in tickets:
            await ticket.delete()
        for reporter in reporters.values():
            await reporter.delete()


@pytest.fixture
async def people(app) -> tuple[User, User]:
    return (
        await make_user("jm", display_name="Jörg MÜLLER"),
        await make_user("sam", Role.STAFF),
    )


async def report(reporter: User, title: str, location: str | None = "Library", **fields) -> Ticket:
    fields.setdefault("category", "it")
    fields.setdefault("description", "As the title says.")
    return await Ticket.create(reporter=reporter, title=title, location=location, **fields)


async def test_unicode_letters_match_in_any_case_from_three_characters(people):
    reporter, _ = people
    ticket = await report(reporter, "Heizung in der STRAßE kaputt", description="Grüße")
    assert await searched("straß") == {ticket.id}
    assert await searched("GRÜßE") == {ticket.id}
    assert await searched("müller") == {ticket.id}  # the reporter's name
    if dialect() == "sqlite":
        assert await searched("ẞ") == set(), "one or two characters: ASCII case only"
    else:
        assert await searched("ẞ") == {ticket.id}


async def test_wildcards_quotes_and_query_words_are_taken_literally(people):
    reporter, _ = people
    percent = await report(reporter, "Printer at 100% cost", description='The "NEAR" key')
    plain = await report(reporter, "Printer at 1000 pages", description="near AND far")
    assert await searched("100%") == {percent.id}
    assert await searched("0% c") == {percent.id}
    assert await searched("_") == set()
    assert await searched('"NEAR"') == {percent.id}
    assert await searched('"') == {percent.id}
    assert await searched("*") == set()
    assert await searched("near AND") == {plain.id}
    assert await searched("NEAR(printer)") == set()
    assert await searched(f"#{plain.id}") == {plain.id}


async def test_the_trigger_follows_new_edited_and_deleted_tickets_and_names(people):
    reporter, _ = people
    ticket = await report(reporter, "Projector flickers", location="Hall 1, room 3")
    assert await searched("flicker") == {ticket.id}
    assert await searched("hall 1") == {ticket.id}

    ticket.title = "Projector dead"
    ticket.location = None
    await ticket.save(update_fields=["title", "location"])
    assert await searched("flicker") == set()
    assert await searched("hall 1") == set()
    assert await searched("DEAD") == {ticket.id}

    reporter.display_name = "Jo Kowalski"
    await reporter.save(update_fields=["display_name"])
    assert await searched("müller") == set()
    assert await searched("kowal") == {ticket.id}

    await ticket.delete()
    assert await searched("dead") == set()
    await index_consistent()


async def index_consistent() -> None:
    """SQLite: FTS5 checks each index against the rows it indexes."""
    if dialect() == "sqlite":
        connection = connections.get("default")
        for table in ("ticket_trigrams", "user_trigrams", "ticket_title_words"):
            await connection.execute_script(
                f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1);"  # noqa: S608
            )
        await connection.execute_script(
            "INSERT INTO known_issue_words (known_issue_words, rank) VALUES ('integrity-check', 1);"
        )


async def publish(staff: User, title: str, building: str | None, **fields) -> KnownIssue:
    ticket = await report(staff, title, location=building)
    return await KnownIssue.create(
        ticket=ticket, public_title=title, building=building, published_by=staff, **fields
    )


async def test_known_issues_are_suggested_by_their_words_same_building_first(people):
    _, staff = people
    wifi = await publish(staff, "Library wifi outage", "Library", public_note="We are on it.")
    heating = await publish(staff, "No heating in Dorm B", "Dorm B")
    window = await publish(staff, "Broken window in Dorm A", "Dorm A")
    printer = await publish(staff, "Printer jammed", "Library")
    await publish(staff, "Wifi slow in the library", "Library", withdrawn_at=utcnow())

    assert await similar_known_issues("wifi down in library", "Library") == [wifi.id]
    found = await similar_known_issues("heater broken Dorm B", "Dorm B")
    assert found[0] == heating.id
    assert set(found) == {heating.id, window.id}
    assert await similar_known_issues("the printers", None) == [printer.id]
    assert await similar_known_issues("NO HEATING", "dorm a") == [heating.id]
    assert await similar_known_issues("the B is in on a", "Dorm B") == []


async def test_a_known_issue_of_the_building_asked_about_comes_before_another_buildings(people):
    _, staff = people
    other = await publish(staff, "No heating", "Dorm B", public_note="Since Monday.")
    here = await publish(staff, "Heating off", "Dorm A")
    assert await similar_known_issues("no heating since monday", "Dorm A") == [here.id, other.id]
    assert await similar_known_issues("no heating since monday", "Dorm B") == [other.id, here.id]
    assert await similar_known_issues("no heating since monday", None) == [other.id, here.id]


async def test_the_known_issue_index_follows_edits_withdrawals_and_deletes(people):
    _, staff = people
    issue = await publish(staff, "Lift out of order", "Union")
    assert await similar_known_issues("lift stuck", "Union") == [issue.id]
    issue.public_title = "Elevator out of order"
    issue.public_note = "Use the stairs by the cafeteria."
    await issue.save(update_fields=["public_title", "public_note"])
    assert await similar_known_issues("lift stuck", "Union") == []
    assert await similar_known_issues("elevators", "Union") == [issue.id]
    assert await similar_known_issues("cafeteria stairs", "Union") == [issue.id]
    issue.withdrawn_at = utcnow()
    await issue.save(update_fields=["withdrawn_at"])
    assert await similar_known_issues("elevators", "Union") == []
    await issue.delete()
    await index_consistent()


async def test_similar_tickets_are_open_in_the_same_category_building_and_days(people):
    reporter, _ = people
    start = utcnow() - timedelta(days=10)
    here = {"category": "facilities", "created_at": start}

    def later(days: float) -> dict:
        return {**here, "created_at": start + timedelta(days=days)}

    ticket = await report(reporter, "No heating in room 214", "Dorm B, room 214", **here)
    best = await report(reporter, "Heating broken in room 12", "dorm b, room 12", **later(1))
    worse = await report(reporter, "Heating noise", "Dorm B", **later(-2.5))
    await report(reporter, "No heating", "Dorm A, room 1", **here)  # another building
    await report(reporter, "No heating", "Dorm B, room 2", **{**here, "category": "it"})
    await report(reporter, "No heating", "Dorm B, room 3", status=Status.CLOSED, **here)
    await report(reporter, "No heating", "Dorm B, room 4", **later(4))  # days later
    await report(reporter, "Broken window", "Dorm B, room 5", **here)  # other words
    assert await similar_tickets(ticket.id) == [best.id, worse.id]
    assert await similar_tickets(ticket.id, limit=1) == [best.id]
    assert await similar_tickets(worse.id) == [ticket.id]  # `best` is 3.5 days after it

    nowhere = await report(reporter, "Heating broken", None, **here)
    also_nowhere = await report(reporter, "No heating", None, **later(1))
    assert await similar_tickets(nowhere.id) == [also_nowhere.id]


async def test_similar_tickets_refuse_a_missing_ticket_and_bad_limits(people):
    reporter, _ = people
    ticket = await report(reporter, "The")  # no word worth looking for
    assert await similar_tickets(ticket.id) == []
    with pytest.raises(NotFound):
        await similar_tickets(ticket.id + 1)
    with pytest.raises(NotFound):
        await similar_tickets(2**40)
    with pytest.raises(ValidationFailed):
        await similar_tickets(ticket.id, limit=0)
    with pytest.raises(ValidationFailed):
        await similar_known_issues("wifi", None, limit=1000)


async def plan(sql: str, values: list) -> str:
    """The query plan of `sql`, with PostgreSQL told to avoid reading whole tables or indexes
    (on tables this small that is cheapest, so the plan would otherwise never show an index
    that is searched for what matches)."""
    if dialect() == "sqlite":
        rows = await connections.get("default").execute_query_dict(
            f"EXPLAIN QUERY PLAN {sql}", values
        )
        return "\n".join(row["detail"] for row in rows)
    async with in_transaction() as connection:
        await connection.execute_script(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off;"
            " SET LOCAL enable_indexonlyscan = off;"
        )
        rows = await connection.execute_query_dict(f"EXPLAIN {sql}", values)
    return "\n".join(row["QUERY PLAN"] for row in rows)


def bound(sql: str, **values) -> tuple[str, list]:
    return Database().bind(sql, values)


async def test_the_ticket_search_is_answered_from_the_indexes(people):
    reporter, _ = people
    await report(reporter, "Library wifi outage")
    query = Ticket.all().select_related("reporter", "assignee").filter(ticket_matches("wifi"))
    shown = await plan(query.sql(params_inline=True), [])
    if dialect() == "sqlite":
        assert "SCAN ticket_trigrams VIRTUAL TABLE" in shown
        assert "SCAN user_trigrams VIRTUAL TABLE" in shown
        assert "SCAN ticket\n" not in shown + "\n"
    else:
        for index in ("ticket_title", "ticket_description", "ticket_location", "user_username"):
            assert f"Bitmap Index Scan on idx_{index}_trigrams" in shown, shown
        assert "Seq Scan" not in shown, shown


async def test_the_suggestions_are_answered_from_the_word_indexes(people):
    _, staff = people
    name = dialect()
    if name == "postgres":
        # On empty tables the planner would rather list the issues not withdrawn, or the
        # tickets of a category, than search the words: give it tables where those are many.
        for number in range(200):
            await publish(staff, f"Issue {number}", "Library")
        await connections.get("default").execute_script("ANALYZE known_issue; ANALYZE ticket")
    query = "wifi:*" if name == "postgres" else '"wifi"*'
    known = bound(KNOWN_ISSUES_SQL[name], query=query, building="Library", limit=5)
    duplicates = bound(
        DUPLICATES_SQL[name],
        query=query,
        id=1,
        open="open",
        active="active",
        category="it",
        start=utcnow() - timedelta(days=3),
        end=utcnow() + timedelta(days=3),
        building="Library",
        limit=5,
    )
    if name == "sqlite":
        assert "SCAN known_issue_words VIRTUAL TABLE" in await plan(*known)
        assert "SCAN ticket_title_words VIRTUAL TABLE" in await plan(*duplicates)
    else:
        assert "Bitmap Index Scan on idx_known_issue_words" in await plan(*known)
        assert "Bitmap Index Scan on idx_ticket_title_words" in await plan(*duplicates)


async def test_the_migration_indexes_the_rows_already_there_and_can_be_undone(people, app_settings):
    reporter, staff = people
    settings = load_settings(environ={}, overrides=app_settings)
    await db.migrate(settings, target="0011_known_issues")
    try:
        ticket = await report(reporter, "Projector flickers", location="Hall 1")
        issue = await KnownIssue.create(
            ticket=ticket, public_title="Projector broken", building="Hall 1", published_by=staff
        )
    finally:
        await db.migrate(settings)
    assert await searched("flicker") == {ticket.id}
    assert await searched("MÜLL") == {ticket.id}
    assert await similar_known_issues("projectors", "Hall 1") == [issue.id]
    await index_consistent()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # PostgreSQL: autovacuum's
async def test_the_planner_statistics_leave_the_text_indexes_own_tables_out(people):
    """Statistics of FTS5's shadow tables, taken while they are small, would make every merge
    of an index scan it whole: only the ordinary tables are analysed."""
    await report(people[0], "Projector flickers", location="Hall 1")
    await db.refresh_statistics()
    rows = await Database().rows(
        "SELECT s.tbl AS tbl, t.type AS type FROM sqlite_stat1 s "
        "JOIN pragma_table_list t ON t.name = s.tbl"
    )
    analysed = {row["tbl"]: row["type"] for row in rows}
    assert "ticket" in analysed
    assert "shadow" not in analysed.values()
