from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def backfill_durations(_apps, schema_editor) -> None:
    """Durations of the tickets that already have a first response or were closed."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":

        def seconds(later: str, earlier: str) -> str:
            return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS INTEGER)"
    else:

        def seconds(later: str, earlier: str) -> str:
            return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"

    await client.execute_script(
        "UPDATE ticket SET first_response_seconds = "
        f"{seconds('first_response_at', 'created_at')} WHERE first_response_at IS NOT NULL;\n"
        f"UPDATE ticket SET resolution_seconds = {seconds('closed_at', 'created_at')} "
        "WHERE closed_at IS NOT NULL;"
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0002_read_markers")]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name="Ticket",
            name=None,
            fields=["closed_at"],
        ),
        ops.RemoveIndex(
            model_name="Ticket",
            name=None,
            fields=["created_at"],
        ),
        ops.AddField(
            model_name="Ticket",
            name="first_response_seconds",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Ticket",
            name="resolution_seconds",
            field=fields.IntField(null=True),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["closed_at", "resolution_seconds", "assignee_id"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["created_at", "first_response_seconds"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["status", "location"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["status", "created_at"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["first_response_seconds", "created_at"]),
        ),
        ops.AddIndex(
            model_name="Ticket",
            index=Index(fields=["resolution_seconds", "closed_at"]),
        ),
        ops.RunPython(backfill_durations, ops.RunPython.noop),
    ]
