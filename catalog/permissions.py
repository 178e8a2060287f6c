"""Who may change what in the catalog."""

from audit.services import SystemActor
from governance.permissions import _is_person, is_governance_admin


def can_manage_item(user, item) -> bool:
    """Governance admins, the item's owner, and members of its owning group manage its
    versions (pin, roll back, yank)."""
    if isinstance(user, SystemActor):
        return True
    if is_governance_admin(user):
        return True
    if not _is_person(user):
        return False
    if item.owner_id == user.pk:
        return True
    return bool(item.owning_group_id) and user.groups.filter(pk=item.owning_group_id).exists()
