"""Celery tasks of the catalog: e-mail about intake requests, and reminders."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from catalog.notifications import intake_notify, intake_remind, tool_change_notify


@shared_task
def notify_intake_change(intake_id: int, transition: str) -> int:
    """E-mail the requester on every state change, and reviewers when it needs them."""
    return intake_notify(intake_id, transition=transition)


@shared_task
def remind_intake_reviewers() -> int:
    """Remind reviewers of requests waiting longer than INTAKE_REMINDER_DAYS (beat)."""
    days = settings.GOVERNANCE["INTAKE_REMINDER_DAYS"]
    return intake_remind(older_than=timezone.now() - timedelta(days=days))


@shared_task
def notify_tool_definitions_changed(event_id: int) -> int:
    """E-mail an MCP server's owners that the gateway refused it (changed tools)."""
    return tool_change_notify(event_id)
