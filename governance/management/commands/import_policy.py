"""manage.py import_policy FILE.yaml [--dry-run]: apply a policy document."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import ApplicationError
from governance.management.commands._actor import command_actor
from governance.policy import policy_import, policy_parse


class Command(BaseCommand):
    help = (
        "Validate and apply a governance policy (YAML or JSON). Everything is validated "
        "before anything is written; the diff is printed; every change is audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the policy document, or - for standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Print the diff only.")
        parser.add_argument("--actor", help="E-mail of the admin importing (default: system).")

    def handle(self, *args, file, dry_run, actor, **options):
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        try:
            result = policy_import(policy_parse(text), actor=command_actor(actor), dry_run=dry_run)
        except ApplicationError as error:
            for line in error.extra.get("errors", []):
                self.stderr.write(f"  {line}")
            raise CommandError(error.message) from error
        for line in result.changes:
            self.stdout.write(line)
        for name in result.unmanaged:
            self.stdout.write(f"  (not in the document, kept) {name}")
        verb = "Would apply" if dry_run else "Applied"
        summary = f"{verb} {len(result.changes)} change(s)." if result.changes else "No changes."
        self.stdout.write(self.style.SUCCESS(summary))
