"""Finding tickets and known issues by their text from the indexes of migration 0012, so a
search reads what matches instead of every row.

Ticket search (`ticket_matches`): a ticket matches a text when its number is the text (`2001`,
`#2001`) or its title, description, location, or its reporter's display name or username
contains the text, ignoring case:
- on PostgreSQL, as `ILIKE` does: both sides lowercased by the database's locale (so `ẞ`
  finds `ß`, and a capital sigma finds a small one but not the final form), answered from
  pg_trgm's GIN indexes;
- on SQLite, a text of three characters or more is found through FTS5 trigram indexes, which
  ignore the case of every letter (Unicode's simple case folding: `Müller` finds `MÜLLER`,
  and the three forms of sigma find each other). A trigram index cannot find one or two
  characters, so a shorter text is looked for with LIKE over every row, which ignores the
  case of ASCII letters only (`é` does not find `É` there).
The folding of the index is the rule on SQLite rather than LIKE's, since people type names
and words in any case; PostgreSQL has no such split.
The text is always taken literally: `%`, `_`, quotes, `*`, `NEAR` or `AND` are just characters.

Suggestions (`similar_known_issues`, `similar_tickets`): ranked matches of the words of a text
(an OR of their prefixes, so "heater" finds "heating" and "library" finds "libraries") from
word indexes: FTS5 with the porter stemmer and without diacritics ranked by bm25 on SQLite,
`to_tsvector('simple', ...)` ranked by ts_rank on PostgreSQL. Short words and common English
words are left out, so "the" or "B" does not match everything.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from pypika_tortoise import SqlContext
from pypika_tortoise.terms import Term, ValueWrapper
from tortoise import connections
from tortoise.expressions import Q

from ..errors import NotFound, ValidationFailed
from ..models import Status
from ..sql import POSTGRES, SQLITE, Database, Dialect
from .fields import in_id_range

TICKET_NUMBER = re.compile(r"^#?\s*([0-9]{1,10})$")
SHORTEST_TRIGRAM_TEXT = 3
SHORTEST_WORD = 3
MOST_WORDS = 12  # of a text, for a suggestion: a long description adds noise, not matches
MOST_SUGGESTIONS = 100
DUPLICATE_WINDOW = timedelta(days=3)
_NAMED = re.compile(r":([a-z_]+)")
_WORD = re.compile(r"[^\W_]+")
# Words that say nothing about what is broken; the indexes still hold them (a title is shown
# as written), the suggestions only do not look for them.
STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be been before being but by can
    cannot could did do does doing for from had has have having he her here hers him his how
    i if in into is it its just me my no nor not now of off on once only or our out over
    please she since so some still than that the their them then there these they this those
    to too under until up very was we were what when where which while who why will with
    would you your""".split()  # noqa: SIM905
)


class BoundSQL(Term):
    """A fragment of SQL with `:name` values, each bound as a parameter of the query that the
    fragment is part of (inlined and quoted only where the query itself is inlined)."""

    def __init__(self, sql: str, **values: Any) -> None:
        super().__init__()
        self.sql = sql
        self.values = values

    def get_sql(self, ctx: SqlContext) -> str:
        return _NAMED.sub(lambda match: ValueWrapper(self.values[match[1]]).get_sql(ctx), self.sql)


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (with `ESCAPE '\\'`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fts_string(text: str) -> str:
    """`text` as one FTS5 string: every character literal, the query syntax switched off."""
    return '"' + text.replace('"', '""') + '"'


def _dialect() -> Dialect:
    return POSTGRES if connections.get("default").capabilities.dialect == "postgres" else SQLITE


def ticket_number(text: str) -> int | None:
    """The ticket id that `text` names (`2001`, `#2001`), if it names one."""
    number = TICKET_NUMBER.match(text.strip())
    if number and in_id_range(int(number[1])):
        return int(number[1])
    return None


# ARRAY(...) makes the reporters one value, so the planner can OR all five indexes.
_POSTGRES_MATCHES = """SELECT "id" FROM "ticket" WHERE "title" ILIKE :pattern ESCAPE '\\'
 OR "description" ILIKE :pattern ESCAPE '\\' OR "location" ILIKE :pattern ESCAPE '\\'
 OR "reporter_id" = ANY(ARRAY(SELECT "id" FROM "user"
  WHERE "display_name" ILIKE :pattern ESCAPE '\\' OR "username" ILIKE :pattern ESCAPE '\\'))
 {number}"""
# Statements are prepared once and soon planned for any text (a generic plan). With the
# matches as an IN list, PostgreSQL would guess that many match and read the tickets newest
# first, trying each: all of them when few match. As one array, found first from the indexes,
# they are looked up by id, newest first, and the page stops at its end.
_POSTGRES_FOUND_FIRST = "ANY(ARRAY({matches}))"
# The reporters are looked up in their own index, then their tickets by the reporter index.
_SQLITE_MATCHES = """(SELECT rowid FROM ticket_trigrams WHERE ticket_trigrams MATCH :text
 UNION ALL SELECT "id" FROM "ticket" WHERE "reporter_id" IN
  (SELECT rowid FROM user_trigrams WHERE user_trigrams MATCH :text)
 {number})"""


def ticket_matches(text: str) -> Q:
    """The tickets whose number is `text`, or whose text or reporter's names contain it
    (ignoring case as the module's docstring says), as a filter of a Ticket query."""
    number = ticket_number(text)
    if _dialect() is POSTGRES:
        sql = _POSTGRES_MATCHES.format(number='OR "id" = :number' if number else "")
        pattern = f"%{escape_like(text)}%"
        if len(text) >= SHORTEST_TRIGRAM_TEXT:
            found = BoundSQL(
                _POSTGRES_FOUND_FIRST.format(matches=sql), pattern=pattern, number=number
            )
            return Q(id=found)
        # A trigram index cannot find one or two characters: a scan, which may stop at the
        # page's end when many match.
        return Q(id__in=BoundSQL(f"({sql})", pattern=pattern, number=number))
    if len(text) >= SHORTEST_TRIGRAM_TEXT:
        sql = _SQLITE_MATCHES.format(number="UNION ALL SELECT :number" if number else "")
        return Q(id__in=BoundSQL(sql, text=fts_string(text), number=number))
    # Tortoise's `contains` is LIKE with its wildcards escaped, read in the listing's own scan.
    columns = ("title", "description", "location", "reporter__display_name", "reporter__username")
    found = [Q(**{f"{column}__contains": text}) for column in columns]
    if number is not None:
        found.append(Q(id=number))
    return Q(*found, join_type=Q.OR)


def significant_words(text: str) -> list[str]:
    """The words of `text` worth looking for, lowercased, each once, in order."""
    words: dict[str, None] = {}
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        if len(word) >= SHORTEST_WORD and word not in STOP_WORDS:
            words.setdefault(word)
    return list(words)[:MOST_WORDS]


def word_prefix(word: str) -> str:
    """The start of `word` that its other forms share: "heater" and "heating" both begin with
    "heat", "library" and "libraries" with "libra". Three letters or four stay whole."""
    return word if len(word) <= 4 else word[: max(4, len(word) - 2)]


def _fts_words(words: list[str]) -> str:
    """FTS5: each word as itself (stemmed by the index's tokenizer) or by its prefix."""
    terms = []
    for word in words:
        terms.append(fts_string(word))
        terms.append(fts_string(word_prefix(word)) + "*")
    return " OR ".join(terms)


def _tsquery_words(words: list[str]) -> str:
    """PostgreSQL's to_tsquery: each word by its prefix ('simple' keeps words as written)."""
    return " | ".join(f"{word_prefix(word)}:*" for word in words)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MOST_SUGGESTIONS:
        raise ValidationFailed(f"limit must be 1 to {MOST_SUGGESTIONS}", field="limit")


# Known issues of the building asked about come first, then the best matches anywhere (those of
# no building are campus-wide, those of another building may still be the same outage).
_KNOWN_ISSUE_WORDS = (
    "setweight(to_tsvector('simple', k.public_title), 'A')"
    " || setweight(to_tsvector('simple', coalesce(k.public_note, '')), 'B')"
)  # as migration 0012 indexes it
KNOWN_ISSUES_SQL = {
    "sqlite": """SELECT k.id FROM known_issue_words JOIN known_issue AS k
 ON k.id = known_issue_words.rowid
 WHERE known_issue_words MATCH :query AND k.withdrawn_at IS NULL
 ORDER BY CASE WHEN lower(k.building) = lower(:building) THEN 0 ELSE 1 END,
  bm25(known_issue_words, 2.0, 1.0), k.id DESC
 LIMIT :limit""",
    "postgres": f"""SELECT k.id FROM known_issue AS k, to_tsquery('simple', :query) AS q
 WHERE ({_KNOWN_ISSUE_WORDS}) @@ q AND k.withdrawn_at IS NULL
 ORDER BY CASE WHEN lower(k.building) = lower(:building) THEN 0 ELSE 1 END,
  ts_rank({_KNOWN_ISSUE_WORDS}, q) DESC, k.id DESC
 LIMIT :limit""",  # noqa: S608 (constants only)
}
WORD_QUERY = {"sqlite": _fts_words, "postgres": _tsquery_words}


async def similar_known_issues(text: str, building: str | None, limit: int = 5) -> list[int]:
    """Published (not withdrawn) known issues whose title or note share words with `text`,
    best first, those of `building` (compared ignoring ASCII case) before any other."""
    _check_limit(limit)
    words = significant_words(text)
    if not words:
        return []
    database = Database()
    name = database.dialect.name
    rows = await database.rows(
        KNOWN_ISSUES_SQL[name], query=WORD_QUERY[name](words), building=building, limit=limit
    )
    return [row["id"] for row in rows]


def _same_place_and_time(dialect: Dialect) -> str:
    same = "IS NOT DISTINCT FROM" if dialect is POSTGRES else "IS"  # both without a location
    return f"""t.id <> :id AND t.status IN (:open, :active) AND t.category = :category
 AND t.created_at BETWEEN :start AND :end
 AND lower({dialect.building("t.location")}) {same} lower(:building)"""


DUPLICATES_SQL = {
    "sqlite": f"""SELECT t.id FROM ticket_title_words JOIN ticket AS t
 ON t.id = ticket_title_words.rowid
 WHERE ticket_title_words MATCH :query AND {_same_place_and_time(SQLITE)}
 ORDER BY bm25(ticket_title_words), t.id DESC
 LIMIT :limit""",  # noqa: S608 (constants only)
    "postgres": f"""SELECT t.id FROM ticket AS t, to_tsquery('simple', :query) AS q
 WHERE to_tsvector('simple', t.title) @@ q AND {_same_place_and_time(POSTGRES)}
 ORDER BY ts_rank(to_tsvector('simple', t.title), q) DESC, t.id DESC
 LIMIT :limit""",  # noqa: S608 (constants only)
}


async def similar_tickets(ticket_id: int, limit: int = 5) -> list[int]:
    """Open or active tickets that may report the same as this one: same category and building
    (or both without a location), opened within three days of it, with words of its title in
    theirs; best first, itself excluded."""
    _check_limit(limit)
    if not in_id_range(ticket_id):
        raise NotFound("no such ticket")
    database = Database()
    rows = await database.rows(
        "SELECT title, category, created_at, "  # noqa: S608
        f"{database.dialect.building('location')} AS building FROM ticket WHERE id = :id",
        id=ticket_id,
    )
    if not rows:
        raise NotFound("no such ticket")
    ticket = rows[0]
    words = significant_words(ticket["title"])
    if not words:
        return []
    created = ticket["created_at"]
    if isinstance(created, str):  # SQLite gives its stored text back
        created = datetime.fromisoformat(created)
    name = database.dialect.name
    found = await database.rows(
        DUPLICATES_SQL[name],
        query=WORD_QUERY[name](words),
        id=ticket_id,
        open=Status.OPEN.value,
        active=Status.ACTIVE.value,
        category=ticket["category"],
        start=created - DUPLICATE_WINDOW,
        end=created + DUPLICATE_WINDOW,
        building=ticket["building"],
        limit=limit,
    )
    return [row["id"] for row in found]
