from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint


class Migration(migrations.Migration):
    dependencies = [("models", "0007_account_mail")]

    initial = False

    operations = [
        ops.AddField(
            model_name="User",
            name="oidc_issuer",
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name="User",
            name="oidc_subject",
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddConstraint(
            model_name="User",
            constraint=UniqueConstraint(fields=("oidc_issuer", "oidc_subject"), name=None),
        ),
    ]
