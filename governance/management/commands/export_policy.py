"""manage.py export_policy [--format yaml|json]: print the whole configuration."""

import json

from django.core.management.base import BaseCommand

from governance.policy import policy_dump_yaml, policy_export


class Command(BaseCommand):
    help = "Print the governance configuration as one YAML (default) or JSON document."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")

    def handle(self, *args, format, **options):
        document = policy_export()
        if format == "json":
            self.stdout.write(json.dumps(document, indent=2))
        else:
            self.stdout.write(policy_dump_yaml(document), ending="")
