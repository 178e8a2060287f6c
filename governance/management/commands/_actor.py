"""The actor a management command acts as: a named person (--actor EMAIL) or the system."""

from django.core.management.base import CommandError

from audit.services import SYSTEM
from governance.models import User


def command_actor(email: str | None):
    if not email:
        return SYSTEM
    user = User.objects.by_email(email).first()
    if user is None:
        raise CommandError(f"No user with the e-mail {email!r}.")
    return user
