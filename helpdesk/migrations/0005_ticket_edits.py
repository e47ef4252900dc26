from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0004_analytics_indexes")]

    initial = False

    operations = [
        ops.CreateModel(
            name="TicketEdit",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="edits",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ticket_edits",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("changes", fields.JSONField()),
                ("at", fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ticket_edit",
                "app": "models",
                "indexes": [Index(fields=["ticket_id", "id"])],
                "pk_attr": "id",
                "table_description": "An edit of the details of a ticket, for its history: who made it, when, and what changed.",
            },
            bases=["Model"],
        ),
    ]
