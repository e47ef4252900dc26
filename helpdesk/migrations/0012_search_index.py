from tortoise import migrations
from tortoise.migrations import operations as ops

# Text indexes, which Tortoise cannot describe: the ticket search (a substring of a title,
# description, location or reporter's name) answers from trigrams, and the suggestions of
# known issues and of duplicate tickets from words. helpdesk/domain/search.py queries them
# and says what each one finds.
#
# SQLite: FTS5 tables over the rows they index (external content, so the text is not stored
# twice), kept in step by triggers, and filled from the rows already there.
_WORDS = "tokenize = 'porter unicode61 remove_diacritics 2'"
SQLITE_TABLES = {
    "ticket_trigrams": ("ticket", ("title", "description", "location"), "tokenize = 'trigram'"),
    "user_trigrams": ("user", ("display_name", "username"), "tokenize = 'trigram'"),
    "ticket_title_words": ("ticket", ("title",), _WORDS),
    "known_issue_words": ("known_issue", ("public_title", "public_note"), _WORDS),
}

# PostgreSQL: GIN indexes on the columns themselves, so `column ILIKE '%text%'` and
# `to_tsvector(...) @@ query`, spelled as search.py spells them, are answered from them.
KNOWN_ISSUE_WORDS = (
    "setweight(to_tsvector('simple', public_title), 'A')"
    " || setweight(to_tsvector('simple', coalesce(public_note, '')), 'B')"
)
POSTGRES_INDEXES = {
    "idx_ticket_title_trigrams": ("ticket", "title gin_trgm_ops"),
    "idx_ticket_description_trigrams": ("ticket", "description gin_trgm_ops"),
    "idx_ticket_location_trigrams": ("ticket", "location gin_trgm_ops"),
    "idx_user_display_name_trigrams": ('"user"', "display_name gin_trgm_ops"),
    "idx_user_username_trigrams": ('"user"', "username gin_trgm_ops"),
    "idx_ticket_title_words": ("ticket", "to_tsvector('simple', title)"),
    "idx_known_issue_words": ("known_issue", f"({KNOWN_ISSUE_WORDS})"),
}
# Withdrawn issues are never suggested, so they are left out of the index.
PARTIAL = {"idx_known_issue_words": " WHERE withdrawn_at IS NULL"}


def _dialect(schema_editor) -> str:
    return "postgres" if schema_editor.client.capabilities.dialect == "postgres" else "sqlite"


def _sqlite_index(name: str, table: str, columns: tuple[str, ...], options: str) -> str:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in columns)
    add = f"INSERT INTO {name} (rowid, {listed}) VALUES (new.id, {new});"
    remove = f"INSERT INTO {name} ({name}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    return f"""
CREATE VIRTUAL TABLE {name} USING fts5(
    {listed}, content = '{table}', content_rowid = 'id', {options}
);
CREATE TRIGGER {name}_insert AFTER INSERT ON "{table}" BEGIN {add} END;
CREATE TRIGGER {name}_delete AFTER DELETE ON "{table}" BEGIN {remove} END;
CREATE TRIGGER {name}_update AFTER UPDATE OF {listed} ON "{table}" WHEN {changed}
BEGIN {remove} {add} END;
INSERT INTO {name} ({name}) VALUES ('rebuild');
"""


async def create_search_indexes(_apps, schema_editor) -> None:
    if _dialect(schema_editor) == "sqlite":
        script = "".join(_sqlite_index(name, *spec) for name, spec in SQLITE_TABLES.items())
    else:
        script = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n" + "\n".join(
            f"CREATE INDEX {name} ON {table} USING gin ({expression}){PARTIAL.get(name, '')};"
            for name, (table, expression) in POSTGRES_INDEXES.items()
        )
    await schema_editor.client.execute_script(script)


async def drop_search_indexes(_apps, schema_editor) -> None:
    # pg_trgm stays: other schemas of the database may use it too.
    if _dialect(schema_editor) == "sqlite":
        script = "\n".join(
            f"DROP TRIGGER IF EXISTS {name}_{event};"
            for name in SQLITE_TABLES
            for event in ("insert", "delete", "update")
        ) + "".join(f"\nDROP TABLE IF EXISTS {name};" for name in SQLITE_TABLES)
    else:
        script = "\n".join(f"DROP INDEX IF EXISTS {name};" for name in POSTGRES_INDEXES)
    await schema_editor.client.execute_script(script)


class Migration(migrations.Migration):
    dependencies = [("models", "0011_known_issues")]

    initial = False

    operations = [ops.RunPython(create_search_indexes, drop_search_indexes)]
