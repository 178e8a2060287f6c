"""Celery tasks of the audit log's core. The insights' tasks live in audit/insights/tasks.py."""

from celery import shared_task

from audit.services import audit_seal_new_events


@shared_task
def seal_audit_events() -> int:
    """Seal the events written since the last run (beat, every minute). Never on the
    decision path; idempotent."""
    return len(audit_seal_new_events())
