"""manage.py seal_audit: seal the audit events written since the last seal, by hand, and
write the new seals to the witness.

Exit status 1, naming the event, when an event to seal does not match its keyed hash
(the events before it are sealed, nothing after it), or when a seal written to the
witness is gone from the database (nothing is sealed)."""

from django.core.management.base import BaseCommand, CommandError

from audit.seal_services import AuditIntegrityError, audit_seal_new_events, audit_witness_sync
from audit.witness import witness_path


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
        try:
            while seals := audit_seal_new_events(margin_seconds=margin_seconds):
                total += len(seals)
                self._report(seals)
            audit_witness_sync()  # also writes a witness configured after sealing began
        except AuditIntegrityError as error:
            self._report(getattr(error, "seals", []))
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{total} new seal(s)."))
        path = witness_path()
        self.stdout.write(f"Witness: {path}" if path else "No witness configured.")

    def _report(self, seals) -> None:
        if seals:
            last = seals[-1]
            self.stdout.write(f"  sealed up to event #{last.last_event_id} (seal #{last.pk})")
