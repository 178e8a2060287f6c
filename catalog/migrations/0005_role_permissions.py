"""Governance admins, connector owners and auditors may view intake requests."""

from django.db import migrations

from governance.roles import role_groups_sync


def sync(apps, schema_editor):
    role_groups_sync(apps, schema_editor)
    # The group whose members may give the security review of any intake request.
    apps.get_model("auth", "Group").objects.get_or_create(name="Security reviewers")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_intake_requests_and_reviews"),
        ("audit", "0007_role_permissions"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
