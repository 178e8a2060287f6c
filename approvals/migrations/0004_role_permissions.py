"""Give the role groups their permissions on webhook deliveries and personal tokens."""

from django.db import migrations

from governance.roles import role_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0003_webhook_deliveries"),
        ("governance", "0003_runtime_callback_and_user_tokens"),
    ]

    operations = [migrations.RunPython(role_groups_sync, migrations.RunPython.noop)]
