from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from helpdesk.models import utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ReadMarker",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="read_markers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="read_markers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("message_id", fields.IntField()),
                (
                    "updated_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "read_marker",
                "app": "models",
                "unique_together": (("user_id", "ticket_id"),),
                "pk_attr": "id",
                "table_description": "How far a user has read the conversation of a ticket, for unread counts and seen marks.",
            },
            bases=["Model"],
        ),
    ]
