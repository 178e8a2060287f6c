"""manage.py seal_audit: seal the audit events written since the last seal, by hand."""

from django.core.management.base import BaseCommand

from audit.services import audit_seal_new_events


class Command(BaseCommand):
    help = "Seal new audit events into signed, chained blocks (what the beat task does)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--margin-seconds",
            type=int,
            default=None,
            help="Seal only events written longer ago than this (default: the setting, 60 s).",
        )

    def handle(self, *args, margin_seconds, **options):
        total = 0
        while seals := audit_seal_new_events(margin_seconds=margin_seconds):
            total += len(seals)
            last = seals[-1]
            self.stdout.write(f"  sealed up to event #{last.last_event_id} (seal #{last.pk})")
        self.stdout.write(self.style.SUCCESS(f"{total} new seal(s)."))
