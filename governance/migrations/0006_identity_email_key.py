"""One identity per person: users get their canonical e-mail key (identity.email_key), which
becomes the unique key, and decisions record the user they were made on behalf of."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill_keys(apps, schema_editor):
    """Canonical keys for existing users; existing decisions linked to their person."""
    from governance.identity import email_key

    User = apps.get_model("governance", "User")
    Decision = apps.get_model("governance", "Decision")
    for user in User.objects.exclude(email=""):
        User.objects.filter(pk=user.pk).update(email_key=email_key(user.email))
    for key, user_id in User.objects.exclude(email_key="").values_list("email_key", "id"):
        Decision.objects.filter(on_behalf_of=key).update(on_behalf_of_user_id=user_id)


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('governance', '0005_decision_resolved_at_index'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='user',
            name='user_email_unique_ci',
        ),
        migrations.AddField(
            model_name='decision',
            name='on_behalf_of_user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='user',
            name='email_key',
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=254, verbose_name='canonical e-mail'),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(condition=models.Q(('email_key', ''), _negated=True), fields=('email_key',), name='user_email_key_unique', violation_error_message='Another person already uses this e-mail address.'),
        ),
    ]
