from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import AuditAction, utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0008_oidc")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_actions",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "action",
                    fields.CharEnumField(
                        description="ACCOUNT_CREATED: account.created\n"
                        "ROLE_CHANGED: account.role_changed\n"
                        "DEACTIVATED: account.deactivated\n"
                        "REACTIVATED: account.reactivated\n"
                        "PASSWORD_RESET_SENT: account.password_reset_sent\n"
                        "MAIL_SENT_AGAIN: mail.sent_again",
                        enum_type=AuditAction,
                        max_length=32,
                    ),
                ),
                (
                    "target",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="target_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="audit_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("details", fields.JSONField(default=dict)),
                ("client_address", fields.CharField(null=True, max_length=64)),
                ("at", fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "audit_entry",
                "app": "models",
                "indexes": [Index(fields=["target_id", "id"])],
                "pk_attr": "id",
                "table_description": "What an admin did to an account or the mail, who did it, "
                "when and from which address.",
            },
            bases=["Model"],
        ),
    ]
