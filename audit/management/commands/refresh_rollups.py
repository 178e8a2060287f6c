"""manage.py refresh_rollups [--full]: count the dashboards' rollups again (what the beat
task does incrementally) and recompute the tuning recommendations."""

import time

from django.core.management.base import BaseCommand

from audit.insights.rollups import rollups_refresh
from audit.insights.tuning import recommendations_refresh


class Command(BaseCommand):
    help = "Refresh the dashboard rollups (incrementally, or every day with --full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Count every day again.")

    def handle(self, *args, full, **options):
        started = time.monotonic()
        days = rollups_refresh(full=full)
        open_count = recommendations_refresh()
        self.stdout.write(
            f"Refreshed {len(days)} day(s) in {time.monotonic() - started:.1f} s; "
            f"{open_count} open recommendation(s)."
        )
