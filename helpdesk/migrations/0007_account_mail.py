from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from helpdesk.models import TokenPurpose, utcnow


class Migration(migrations.Migration):
    dependencies = [("models", "0006_mail")]

    initial = False

    operations = [
        ops.CreateModel(
            name="MailedToken",
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
                        related_name="mailed_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "purpose",
                    fields.CharEnumField(
                        description="PASSWORD_RESET: password_reset\nCONFIRM_ADDRESS: confirm_address",
                        enum_type=TokenPurpose,
                        max_length=16,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utcnow, auto_now=False, auto_now_add=False),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "mailed_token",
                "app": "models",
                "indexes": [Index(fields=["user_id", "purpose"])],
                "pk_attr": "id",
                "table_description": "A single-use link sent by mail: stored as the sha256 of the token, never the token.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="User",
            name="email_confirmed",
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
