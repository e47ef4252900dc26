from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import DatetimeField, NotificationKind, utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0010_attachments")]

    initial = False

    operations = [
        ops.CreateModel(
            name="KnownIssue",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "ticket",
                    fields.OneToOneField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="publication",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("public_title", fields.CharField(max_length=200)),
                ("public_note", fields.TextField(null=True, unique=False)),
                ("building", fields.CharField(null=True, max_length=200)),
                (
                    "published_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="published_by_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="published_issues",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("published_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ("updated_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ("withdrawn_at", DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "known_issue",
                "app": "models",
                "indexes": [
                    Index(fields=["withdrawn_at", "updated_at"]),
                    Index(fields=["building", "withdrawn_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A ticket published for everyone on campus: what is broken, in words fit for anyone.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Affected",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "known_issue",
                    fields.ForeignKeyField(
                        "models.KnownIssue",
                        source_field="known_issue_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="affected",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="affected_by",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("merged", fields.BooleanField(default=False)),
                ("created_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "affected",
                "app": "models",
                "unique_together": (("known_issue_id", "user_id"),),
                "indexes": [Index(fields=["user_id", "known_issue_id"])],
                "pk_attr": "id",
                "table_description": "Someone affected by a known issue: they said me too, or their ticket was merged into it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FanOut",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "known_issue",
                    fields.ForeignKeyField(
                        "models.KnownIssue",
                        source_field="known_issue_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="fan_outs",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=32)),
                ("data", fields.TextField(unique=False)),
                ("position", fields.IntField(default=0)),
                ("created_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
                ("done_at", DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "fan_out",
                "app": "models",
                "indexes": [Index(fields=["done_at", "id"])],
                "pk_attr": "id",
                "table_description": "News of a known issue to tell everyone affected, a batch of people at a time.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="KnownIssueUpdate",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "known_issue",
                    fields.ForeignKeyField(
                        "models.KnownIssue",
                        source_field="known_issue_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="updates",
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
                        related_name="known_issue_updates",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("body", fields.TextField(unique=False)),
                ("created_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "known_issue_update",
                "app": "models",
                "indexes": [Index(fields=["known_issue_id", "id"])],
                "pk_attr": "id",
                "table_description": "What the helpdesk told everyone affected by a known issue.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SavedFilter",
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
                        related_name="saved_filters",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=60)),
                ("query", fields.CharField(max_length=1000)),
                ("created_at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "saved_filter",
                "app": "models",
                "unique_together": (("user_id", "name"),),
                "pk_attr": "id",
                "table_description": "A board filter a staff member keeps under a name.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TicketMerge",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "ticket",
                    fields.OneToOneField(
                        "models.Ticket",
                        source_field="ticket_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="merge",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "known_issue",
                    fields.ForeignKeyField(
                        "models.KnownIssue",
                        source_field="known_issue_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="merges",
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
                        related_name="merges",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("at", DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ticket_merge",
                "app": "models",
                "indexes": [Index(fields=["known_issue_id", "id"])],
                "pk_attr": "id",
                "table_description": "A ticket closed as a duplicate of a known issue, for the histories of both tickets.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Ticket",
            name="affected_count",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="Ticket",
            name="known_issue_id",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Ticket",
            name="merged_into_id",
            field=fields.IntField(null=True),
        ),
        ops.AlterField(
            model_name="PendingNotification",
            name="kind",
            field=fields.CharEnumField(
                description="REPLY: reply\nSTATUS: status\nASSIGNED: assigned\nKNOWN_ISSUE: known_issue",
                enum_type=NotificationKind,
                max_length=16,
            ),
        ),
    ]
