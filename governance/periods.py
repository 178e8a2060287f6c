"""The one definition of "the last N days", for every page that counts by period (Home, the
dashboards, a catalog item's figures): N calendar days in the configured time zone, today
included, from the start of the first one. A rolling "now minus N x 24 h" and calendar days
disagree by a few hours of decisions, and two pages showing "the last 30 days" must not."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone


def last_days(days: int, *, today: date | None = None) -> tuple[date, date]:
    """The first and the last day (inclusive) of the last `days` calendar days."""
    today = today or timezone.localdate()
    return today - timedelta(days=days - 1), today


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, in the configured time zone."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def last_days_since(days: int, *, today: date | None = None) -> datetime:
    """When the last `days` calendar days began: what a query filters `>=` on."""
    return day_start(last_days(days, today=today)[0])
