"""manage.py create_runtime NAME --profiles a,b: register an agent runtime and print its
token once (only its hash is stored)."""

from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import ApplicationError
from governance.management.commands._actor import command_actor
from governance.models import PermissionProfile
from governance.services import runtime_callback_set, runtime_create


class Command(BaseCommand):
    help = "Create an agent runtime allowed to use the given profiles; prints its token once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A slug naming the runtime, e.g. sales-assistant.")
        parser.add_argument(
            "--profiles", default="", help="Comma-separated profile slugs the runtime may use."
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--callback-url", default="", help="Webhook URL for resolved decisions (optional)."
        )
        parser.add_argument("--actor", help="E-mail of the admin doing this (default: system).")

    def handle(self, *args, name, profiles, description, actor, callback_url, **options):
        slugs = [s.strip() for s in profiles.split(",") if s.strip()]
        found = list(PermissionProfile.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {p.slug for p in found})
        if missing:
            raise CommandError(f"Unknown profile(s): {', '.join(missing)}.")
        try:
            runtime, token = runtime_create(
                actor=command_actor(actor), name=name, profiles=found, description=description
            )
            secret = (
                runtime_callback_set(runtime, actor=command_actor(actor), url=callback_url)
                if callback_url
                else ""
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if secret:
            self.stderr.write(f"Webhook signing secret (shown once): {secret}")
        self.stderr.write(
            f"Created runtime {runtime.name} for profiles: {', '.join(slugs) or 'none'}.\n"
            "Its token is printed below, once; store it in the agent's secret store."
        )
        self.stdout.write(token)
