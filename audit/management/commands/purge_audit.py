"""manage.py purge_audit --before DATE: retention. Removes sealed events older than DATE
(whole seals only), keeps the seals so the chain still verifies, records the purge.

On PostgreSQL the delete runs as the agc_audit_purger database role: set
AUDIT_PURGE_DATABASE_URL to a login that is a member of it (README, "Database roles");
the application's own role is refused, with a message saying so."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.seal_services import AuditIntegrityError
from audit.services import AuditPurgeNotPermitted, audit_purge
from governance.management.commands._actor import command_actor


def parse_before(value: str) -> datetime:
    problem = f"{value!r} is not a date (YYYY-MM-DD) or date-time (ISO 8601)."
    try:
        moment = parse_datetime(value)
        day = parse_date(value) if moment is None else None
    except ValueError as error:  # well formed but impossible, e.g. month 13
        raise CommandError(problem) from error
    if moment is None:
        if day is None:
            raise CommandError(problem)
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Remove sealed audit events older than --before (whole seals; seals are kept)."

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="YYYY-MM-DD or an ISO 8601 date-time.")
        parser.add_argument(
            "--actor", help="E-mail of the person running the purge (default: system)."
        )

    def handle(self, *args, before, actor, **options):
        moment = parse_before(before)
        if moment > timezone.now():
            raise CommandError("--before is in the future; nothing that recent can be purged.")
        try:
            purge = audit_purge(before=moment, actor=command_actor(actor))
        except (AuditIntegrityError, AuditPurgeNotPermitted) as error:
            raise CommandError(str(error)) from error
        if purge is None:
            self.stdout.write("Nothing to purge: no whole sealed block is older than that date.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {purge.deleted} event(s) through seal #{purge.through_seal_id}."
            )
        )
