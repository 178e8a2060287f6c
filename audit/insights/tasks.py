"""Celery tasks of the insights (discovered by governance/celery.py)."""

from celery import shared_task

from audit.insights.rollups import rollups_refresh
from audit.insights.tuning import recommendations_refresh


@shared_task
def refresh_rollups() -> int:
    """Count again the days touched since the last run, then recompute the tuning
    recommendations (beat, every five minutes). Idempotent; safe to re-run."""
    days = rollups_refresh()
    recommendations_refresh()
    return len(days)
