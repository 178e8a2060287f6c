"""manage.py run_periodic [--once]: the periodic work without a broker.

Runs the tasks of settings.CELERY_BEAT_SCHEDULE in this process, each on its own schedule:
sealing the audit log, refreshing the dashboards' rollups, expiring and escalating
approvals, reminding intake reviewers. `make demo` starts it beside the web server, so that
the embedded default (SQLite, no Celery broker) is as live as production, where Celery beat
and a worker do the same work. The tasks are idempotent, so running this beside beat, or
twice, is harmless."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from celery.schedules import maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

logger = logging.getLogger(__name__)
# Sleep at most this long between checks, so that Ctrl-C and a new due time are noticed.
MAX_NAP_SECONDS = 5.0


@dataclass
class Entry:
    """One line of the beat schedule and when it last ran."""

    name: str
    task: str
    schedule: object
    last_run_at: datetime | None = None
    runs: int = field(default=0)

    def due(self, now: datetime) -> tuple[bool, float]:
        """(run it now?, seconds until it should be checked again). Never run: due now."""
        if self.last_run_at is None:
            return True, float(self.schedule.remaining_estimate(now).total_seconds())
        is_due, next_check = self.schedule.is_due(self.last_run_at)
        return bool(is_due), float(next_check)


def schedule_entries(beat_schedule: dict) -> list[Entry]:
    """The beat schedule as entries (numbers of seconds, timedeltas and crontabs alike)."""
    return [
        Entry(name=name, task=spec["task"], schedule=maybe_schedule(spec["schedule"]))
        for name, spec in beat_schedule.items()
    ]


def run_due(entries: list[Entry], *, now: datetime, run) -> float:
    """Run every entry that is due (through `run(entry)`), and return how long to wait
    before the next one may be."""
    waits = []
    for entry in entries:
        is_due, _ = entry.due(now)
        if is_due:
            run(entry)
            entry.last_run_at, entry.runs = now, entry.runs + 1
        waits.append(entry.due(now)[1])
    return max(0.0, min(waits, default=MAX_NAP_SECONDS))


def describe(entry: Entry) -> str:
    """ "seal-audit-events every 60 s" (or the schedule as Celery writes it, for a crontab)."""
    every = getattr(entry.schedule, "run_every", None)
    return (
        f"{entry.name} every {every.total_seconds():g} s"
        if every
        else f"{entry.name} {entry.schedule}"
    )


class Command(BaseCommand):
    help = (
        "Run the beat schedule's tasks (sealing, rollups, expiry, escalation, reminders) in "
        "this process on their intervals: the periodic work for a setup without Celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once, then stop.")

    def handle(self, *args, once: bool = False, **options):
        from governance.celery import app

        app.loader.import_default_modules()  # registers every app's tasks by name
        entries = schedule_entries(settings.CELERY_BEAT_SCHEDULE)
        self.stdout.write("Periodic work: " + ", ".join(map(describe, entries)))

        def run(entry: Entry) -> None:
            # apply() runs the task here, as a worker would; a failure is logged and the
            # loop goes on, as beat goes on when one task fails.
            result = app.tasks[entry.task].apply(throw=False)
            if result.failed():
                logger.error("Periodic task %s failed: %s", entry.name, result.traceback)
            elif result.result:
                self.stdout.write(f"[periodic] {entry.name}: {result.result}")

        try:
            while True:
                wait = run_due(entries, now=timezone.now(), run=run)
                if once:
                    return
                time.sleep(min(wait, MAX_NAP_SECONDS))
        except KeyboardInterrupt:
            self.stdout.write("Periodic work stopped.")
