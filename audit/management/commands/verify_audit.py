"""manage.py verify_audit: verify the whole audit log (see audit/verification.py).

Exit status 0 when intact, 1 when something fails (the first failure is named by id).
Warnings (no witness configured, seals not witnessed yet) do not fail the check."""

import sys

from django.core.management.base import BaseCommand

from audit.verification import audit_verify


class Command(BaseCommand):
    help = "Verify every seal and event, and the seals against the witness; exit 0 if intact."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="List up to 100 problems, not just the first."
        )

    def handle(self, *args, **options):
        report = audit_verify(limit=100 if options["all"] else 1)
        self.stdout.write(
            f"{report.seals} seal(s), {report.events} sealed event(s) checked; "
            f"{report.purged_seals} seal(s) purged by retention; "
            f"{report.unsealed} event(s) not sealed yet."
        )
        if report.witness:
            self.stdout.write(f"{report.witnessed} seal(s) match the witness {report.witness}.")
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        if report.intact:
            self.stdout.write(self.style.SUCCESS("The audit log is intact."))
            return
        for problem in report.problems:
            self.stderr.write(self.style.ERROR(problem.message))
        sys.exit(1)
