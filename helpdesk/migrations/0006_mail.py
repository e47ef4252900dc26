from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import MailState, NotificationKind, NotificationState, utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0005_ticket_edits")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ConsumerCursor",
            fields=[
                (
                    "name",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("position", fields.BigIntField(default=0)),
                (
                    "updated_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "consumer_cursor",
                "app": "models",
                "pk_attr": "name",
                "table_description": "How far an event-log consumer has acted on the log, moved with what it wrote.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxMail",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("to_address", fields.CharField(max_length=254)),
                (
                    "recipient",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="recipient_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="mails",
                        on_delete=OnDelete.SET_NULL,
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
                        related_name="mails",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("kind", fields.CharField(max_length=16)),
                ("message_id", fields.CharField(unique=True, max_length=255)),
                ("message", fields.TextField(unique=False)),
                (
                    "state",
                    fields.CharEnumField(
                        default=MailState.PENDING,
                        description="PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nUNCERTAIN: uncertain",
                        enum_type=MailState,
                        max_length=10,
                    ),
                ),
                ("attempts", fields.IntField(default=0)),
                (
                    "next_attempt_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("last_error", fields.TextField(null=True, unique=False)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "outbox_mail",
                "app": "models",
                "indexes": [
                    Index(fields=["state", "next_attempt_at"]),
                    Index(fields=["recipient_id", "created_at"]),
                ],
                "pk_attr": "id",
                "table_description": "One mail to send, whole as RFC 5322 text, with where its delivery stands.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PendingNotification",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "recipient",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="recipient_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
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
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("event_id", fields.BigIntField()),
                (
                    "kind",
                    fields.CharEnumField(
                        description="REPLY: reply\nSTATUS: status\nASSIGNED: assigned",
                        enum_type=NotificationKind,
                        max_length=16,
                    ),
                ),
                ("message_id", fields.IntField(null=True)),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="caused_notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("body", fields.TextField(null=True, unique=False)),
                ("from_status", fields.CharField(null=True, max_length=8)),
                ("to_status", fields.CharField(null=True, max_length=8)),
                ("watched", fields.BooleanField(default=False)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("due_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "state",
                    fields.CharEnumField(
                        default=NotificationState.PENDING,
                        description="PENDING: pending\nMAILED: mailed\nSEEN: seen\nDROPPED: dropped",
                        enum_type=NotificationState,
                        max_length=8,
                    ),
                ),
            ],
            options={
                "table": "pending_notification",
                "app": "models",
                "unique_together": (("recipient_id", "event_id"),),
                "indexes": [
                    Index(fields=["state", "due_at"]),
                    Index(fields=["recipient_id", "ticket_id", "state"]),
                ],
                "pk_attr": "id",
                "table_description": "Something a person may be mailed about once its delay has passed, unless they saw it.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="User",
            name="email_notifications",
            field=fields.CharField(default="immediate", db_default="immediate", max_length=16),
        ),
    ]
