"""manage.py export_claude_settings RUNTIME --profile SLUG: Claude Code's managed settings.

Writes managed-settings.json (to standard output, or --output) for the runtime working
under the profile: the hooks wired to this console (the command hook by default, --hook
http for the HTTP hook endpoint), the permission rules and the MCP servers of the profile;
--mcp-output also writes managed-mcp.json. Validated against the schemas in
governance/hooks/schemas/. No secret is written: the runtime token and the person's e-mail
are referenced as AGC_TOKEN and AGC_ON_BEHALF_OF."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import ApplicationError
from governance.hooks.claude_settings import (
    HOOK_KINDS,
    claude_settings_build,
    managed_mcp_build,
)
from governance.models import AgentRuntime


class Command(BaseCommand):
    help = "Print Claude Code's managed-settings.json for a runtime and one of its profiles."

    def add_arguments(self, parser):
        parser.add_argument("runtime", help="The agent runtime's name, e.g. claude-code.")
        parser.add_argument("--profile", required=True, help="One of the runtime's profiles.")
        parser.add_argument("--hook", choices=HOOK_KINDS, default="command")
        parser.add_argument(
            "--url", default=None, help="The console's address (default: SITE_URL)."
        )
        parser.add_argument("--wait-seconds", type=float, default=60.0)
        parser.add_argument("--output", "-o", help="Write managed-settings.json there.")
        parser.add_argument("--mcp-output", help="Also write managed-mcp.json there.")

    def handle(self, *args, runtime, profile, hook, url, wait_seconds, output, mcp_output, **o):
        found = AgentRuntime.objects.filter(name=runtime).first()
        if found is None:
            raise CommandError(f"There is no agent runtime '{runtime}'.")
        base_url = url or settings.SITE_URL
        try:
            document = claude_settings_build(
                runtime=found,
                profile=profile,
                base_url=base_url,
                hook=hook,
                wait_seconds=wait_seconds,
            )
            mcp = managed_mcp_build(runtime=found, profile=profile, base_url=base_url)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self._write(document, output)
        if mcp_output:
            self._write(mcp, mcp_output)

    def _write(self, document: dict, path: str | None) -> None:
        text = json.dumps(document, indent=2) + "\n"
        if path is None:
            self.stdout.write(text, ending="")
            return
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        self.stderr.write(f"Wrote {path}.")
