"""Hash version 2 of audit events (covers `recorded_at` and the version) and signed purge
records.

Existing events keep hash version 1, so they still verify: the column is added with 1 for
every row already there, then its default becomes 2 for new events. On PostgreSQL both
steps are ALTER TABLE (no UPDATE of a row, so the append-only trigger is not involved)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_rollups_recommendations_reviews")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash_version",
            field=models.PositiveSmallIntegerField(db_default=2, default=2, editable=False),
        ),
        migrations.AddField(
            model_name="auditpurge",
            name="signature",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
