"""Role groups with their permissions, and the policy revision row."""

from django.db import migrations

from governance.roles import role_groups_sync


def create_revision(apps, schema_editor):
    PolicyRevision = apps.get_model("governance", "PolicyRevision")
    PolicyRevision.objects.get_or_create(id=1, defaults={"number": 1})


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0001_initial"),
        ("catalog", "0002_initial"),
        ("approvals", "0002_initial"),
        ("audit", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(role_groups_sync, migrations.RunPython.noop),
        migrations.RunPython(create_revision, migrations.RunPython.noop),
    ]
