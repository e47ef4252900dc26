from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import Category, Priority, Role, Status, utcnow


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Event",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("room", fields.CharField(max_length=64)),
                ("kind", fields.CharField(max_length=32)),
                ("data", fields.TextField(unique=False)),
                ("staff_only", fields.BooleanField(default=False)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "event",
                "app": "models",
                "indexes": [Index(fields=["room", "id"])],
                "pk_attr": "id",
                "table_description": "One row of the event log: what the members of a room saw, in id order, for replay.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("username", fields.CharField(unique=True, max_length=32)),
                ("display_name", fields.CharField(max_length=80)),
                ("email", fields.CharField(null=True, max_length=254)),
                ("password_hash", fields.CharField(max_length=255)),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.USER,
                        description="USER: user\nSTAFF: staff\nADMIN: admin",
                        enum_type=Role,
                        max_length=8,
                    ),
                ),
                ("is_active", fields.BooleanField(default=True)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "user", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuthSession",
            fields=[
                (
                    "id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "auth_session",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A signed-in browser. Deleting the row signs it out wherever its cookie is used.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Ticket",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "reporter",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="reporter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reported_tickets",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "assignee",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="assignee_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="assigned_tickets",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("title", fields.CharField(max_length=200)),
                ("description", fields.TextField(unique=False)),
                (
                    "category",
                    fields.CharEnumField(
                        description="FACILITIES: facilities\nIT: it\nSERVICES: services",
                        enum_type=Category,
                        max_length=16,
                    ),
                ),
                ("location", fields.CharField(null=True, max_length=200)),
                (
                    "priority",
                    fields.CharEnumField(
                        default=Priority.NORMAL,
                        description="LOW: low\nNORMAL: normal\nHIGH: high\nURGENT: urgent",
                        enum_type=Priority,
                        max_length=8,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=Status.OPEN,
                        description="OPEN: open\nACTIVE: active\nCLOSED: closed",
                        enum_type=Status,
                        max_length=8,
                    ),
                ),
                ("version", fields.IntField(default=1)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                (
                    "updated_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                (
                    "first_response_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "last_message_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "ticket",
                "app": "models",
                "indexes": [
                    Index(fields=["status", "id"]),
                    Index(fields=["reporter_id", "status", "id"]),
                    Index(fields=["assignee_id", "status", "id"]),
                    Index(fields=["category", "status", "id"]),
                    Index(fields=["closed_at"]),
                    Index(fields=["created_at"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Message",
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
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("body", fields.TextField(unique=False)),
                ("internal", fields.BooleanField(default=False)),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("client_id", fields.CharField(null=True, max_length=64)),
                ("event_id", fields.BigIntField(null=True)),
            ],
            options={
                "table": "message",
                "app": "models",
                "unique_together": (("author_id", "client_id"),),
                "indexes": [Index(fields=["ticket_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StatusChange",
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
                        related_name="status_changes",
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
                        related_name="status_changes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "from_status",
                    fields.CharEnumField(
                        description="OPEN: open\nACTIVE: active\nCLOSED: closed",
                        enum_type=Status,
                        max_length=8,
                    ),
                ),
                (
                    "to_status",
                    fields.CharEnumField(
                        description="OPEN: open\nACTIVE: active\nCLOSED: closed",
                        enum_type=Status,
                        max_length=8,
                    ),
                ),
                ("note", fields.TextField(null=True, unique=False)),
                ("at", fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "status_change",
                "app": "models",
                "indexes": [Index(fields=["ticket_id", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
