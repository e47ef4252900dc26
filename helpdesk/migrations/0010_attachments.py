from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0009_audit")]

    initial = False

    operations = [
        ops.AddField(model_name="Ticket", name="attachments", field=fields.JSONField(null=True)),
        ops.AddField(model_name="Message", name="attachments", field=fields.JSONField(null=True)),
        ops.CreateModel(
            name="Attachment",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key", fields.CharField(unique=True, max_length=64)),
                (
                    "uploader",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="uploader_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="uploads",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "ticket",
                    fields.ForeignKeyField(
                        "models.Ticket",
                        source_field="ticket_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="files",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="files",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("internal", fields.BooleanField(default=False)),
                ("filename", fields.CharField(max_length=128)),
                ("content_type", fields.CharField(max_length=32)),
                ("size", fields.IntField()),
                ("width", fields.IntField(null=True)),
                ("height", fields.IntField(null=True)),
                ("thumbnail_size", fields.IntField(null=True)),
                ("digest", fields.CharField(max_length=64)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("attached_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "attachment",
                "app": "models",
                "indexes": [
                    Index(fields=["attached_at", "created_at"]),
                    Index(fields=["uploader_id", "created_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A file uploaded to a ticket or a message, seen by its uploader alone until attached.",
            },
            bases=["Model"],
        ),
    ]
