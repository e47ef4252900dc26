from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# Indexes on expressions, which Tortoise's Index cannot describe. Each expression is spelled
# exactly as the analytics queries spell it (helpdesk/sql.py), so the planner matches them:
# the opened and closed per-day counts (with how many have a first response or a resolution
# time) then read days in index order instead of grouping every ticket in a temporary B-tree.
# The top locations group by building, and only the waiting (open or active) tickets are in
# that index.
EXPRESSION_INDEXES = {
    "sqlite": {
        "idx_ticket_created_day": "substr(created_at, 1, 10), first_response_seconds",
        "idx_ticket_closed_day": "substr(closed_at, 1, 10), resolution_seconds",
        "idx_ticket_waiting_building": (
            "trim(CASE WHEN instr(location, ',') > 0 "
            "THEN substr(location, 1, instr(location, ',') - 1) ELSE location END), status"
        ),
    },
    "postgres": {
        "idx_ticket_created_day": "date(timezone('UTC', created_at)), first_response_seconds",
        "idx_ticket_closed_day": "date(timezone('UTC', closed_at)), resolution_seconds",
        "idx_ticket_waiting_building": "trim(split_part(location, ',', 1)), status",
    },
}

PARTIAL = {"idx_ticket_waiting_building": " WHERE status IN ('open', 'active')"}


def _dialect(schema_editor) -> str:
    return "postgres" if schema_editor.client.capabilities.dialect == "postgres" else "sqlite"


async def create_expression_indexes(_apps, schema_editor) -> None:
    indexes = EXPRESSION_INDEXES[_dialect(schema_editor)]
    statements = [
        f"CREATE INDEX {name} ON ticket ({columns}){PARTIAL.get(name, '')};"
        for name, columns in indexes.items()
    ]
    await schema_editor.client.execute_script("\n".join(statements))


async def drop_expression_indexes(_apps, schema_editor) -> None:
    indexes = EXPRESSION_INDEXES[_dialect(schema_editor)]
    await schema_editor.client.execute_script(
        "\n".join(f"DROP INDEX IF EXISTS {name};" for name in indexes)
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0003_analytics_durations")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["assignee_id", "closed_at"]),
        ),
        ops.RunPython(create_expression_indexes, drop_expression_indexes),
    ]
