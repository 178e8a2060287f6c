"""The Celery application, following Django's official recipe.

Configuration comes from the CELERY_* settings; tasks are discovered in every app's
tasks.py and in audit/insights/tasks.py. Without CELERY_BROKER_URL the tasks run inline
(settings.CELERY_TASK_ALWAYS_EAGER)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["audit.insights"])
