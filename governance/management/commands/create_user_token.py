"""manage.py create_user_token USERNAME [--name NAME]: a personal API token, printed once.

Also --list (a person's tokens, by prefix) and --revoke PREFIX."""

from django.core.management.base import BaseCommand, CommandError

from audit.services import SYSTEM
from governance.exceptions import ApplicationError
from governance.models import User
from governance.services import user_token_create, user_token_revoke


class Command(BaseCommand):
    help = "Issue (or list, or revoke) a person's API token for the approvals API."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="What the token is for (e.g. slack-bot).")
        parser.add_argument(
            "--list", action="store_true", dest="list_tokens", help="List the person's tokens."
        )
        parser.add_argument("--revoke", metavar="PREFIX", help="Revoke the token with this prefix.")

    def handle(self, *args, username, name, list_tokens, revoke, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            if list_tokens:
                for token in user.api_tokens.all():
                    state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                    self.stdout.write(f"{token.token_prefix}…  {token.name}  {state}")
            elif revoke:
                token = user.api_tokens.filter(token_prefix=revoke.rstrip("…")).first()
                if token is None:
                    raise CommandError(f"{username} has no token starting with {revoke!r}.")
                user_token_revoke(token, actor=SYSTEM)
                self.stderr.write(f"Revoked {token.token_prefix}… ({token.name}).")
            else:
                _, plaintext = user_token_create(user, actor=SYSTEM, name=name)
                self.stderr.write(
                    f"Token for {user.email} ({name}). It is printed below, once; it acts with "
                    f"{username}'s own permissions. Send it as Authorization: Bearer <token>."
                )
                self.stdout.write(plaintext)
        except ApplicationError as error:
            raise CommandError(error.message) from error
