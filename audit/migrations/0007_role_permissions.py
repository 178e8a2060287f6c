"""Auditors may view seals and purges."""

from django.db import migrations

from governance.roles import role_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_append_only_seals_and_purge_switch"),
        ("approvals", "0004_role_permissions"),
    ]

    operations = [migrations.RunPython(role_groups_sync, migrations.RunPython.noop)]
