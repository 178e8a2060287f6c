"""Celery tasks of the audit log."""

from celery import shared_task

from audit.services import audit_refusals_flush, audit_seal_new_events


@shared_task
def seal_audit_events() -> int:
    """Seal the events written since the last run (beat, every minute). Never on the
    decision path; idempotent."""
    return len(audit_seal_new_events())


@shared_task
def refresh_rollups() -> int:
    """Count again the days touched since the last run, then recompute the tuning
    recommendations (beat, every five minutes). Idempotent; safe to re-run."""
    from audit.rollups import rollups_refresh
    from audit.tuning import recommendations_refresh

    days = rollups_refresh()
    recommendations_refresh()
    return len(days)


@shared_task
def flush_refusal_counts() -> int:
    """Write the counts of refused requests (bad API tokens, sign-ins while locked out)
    whose minute is over into the audit log (beat, every minute). Idempotent."""
    return audit_refusals_flush()
