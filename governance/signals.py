"""Cache invalidation (the one use of signals here, see STYLE.md): the decision path reads
people, their groups and the groups themselves from the per-process policy cache, so a
change to any of them bumps the policy revision in the same transaction, wherever it is
made (the admin, a service, a command, a data fix in the shell)."""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from governance.models import User

# The fields of a person that the decision path reads (last_login and the like do not matter).
_PERSON_FIELDS = {"email", "email_key", "is_active"}


def _bump() -> None:
    from governance.services import policy_revision_bump

    policy_revision_bump()


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and not set(update_fields) & _PERSON_FIELDS):
        return
    _bump()


@receiver(post_delete, sender=User)
@receiver(post_delete, sender=Group)
def person_or_group_deleted(sender, raw=False, **kwargs):
    _bump()


@receiver(post_save, sender=Group)
def group_saved(sender, raw=False, **kwargs):
    if not raw:
        _bump()


@receiver(m2m_changed, sender=User.groups.through)
def membership_changed(sender, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        _bump()
