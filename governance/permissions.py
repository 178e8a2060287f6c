"""Role predicates and DRF permission classes.

Roles are the Django groups of DESIGN.md. Views, API views, admin and services ask these
predicates by name; no view checks a group inline."""

from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import BasePermission

from governance.choices import Role
from governance.models import AgentRuntime


def _is_person(user) -> bool:
    return bool(user and user.is_authenticated and not isinstance(user, AgentRuntime))


def has_role(user, role: Role) -> bool:
    if not _is_person(user) or not user.is_active:
        return False
    cache = getattr(user, "_role_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._role_cache = cache
    return role.value in cache


def is_governance_admin(user) -> bool:
    """Owns profiles, action types, the allow-list and the catalog."""
    return _is_person(user) and (user.is_superuser or has_role(user, Role.GOVERNANCE_ADMIN))


def is_connector_owner(user) -> bool:
    return has_role(user, Role.CONNECTOR_OWNER)


def is_approver(user) -> bool:
    """Works the approval inbox: in the Approvers role or in any action type's approver group."""
    if has_role(user, Role.APPROVER):
        return True
    return _is_person(user) and user.groups.filter(approver_for_action_types__isnull=False).exists()


def is_leadership(user) -> bool:
    return has_role(user, Role.LEADERSHIP)


def is_auditor(user) -> bool:
    return has_role(user, Role.AUDITOR)


def can_view_policy(user) -> bool:
    """Profiles, action types and decisions are readable by every role that oversees them."""
    return (
        is_governance_admin(user)
        or is_auditor(user)
        or is_leadership(user)
        or is_connector_owner(user)
        or is_approver(user)
    )


def can_view_runtimes(user) -> bool:
    """Agent runtimes (names, profiles, token prefixes, callbacks) and their history are for
    governance admins and auditors: the Runtimes page, its API and its history tab."""
    return is_governance_admin(user) or is_auditor(user)


def can_see_dashboards(user) -> bool:
    """The dashboards, tuning and the quarterly review: leadership and governance admins."""
    return is_leadership(user) or is_governance_admin(user)


def can_check_integrity(user) -> bool:
    """The audit log's integrity page (seals, verification): auditors and governance admins."""
    return is_auditor(user) or is_governance_admin(user)


def can_manage_policy(user) -> bool:
    return is_governance_admin(user)


def roles_of(user) -> list[str]:
    """The role labels of a person, for the navigation and the home page."""
    if isinstance(user, AnonymousUser) or not _is_person(user):
        return []
    labels = [role.label for role in Role if has_role(user, role)]
    if user.is_superuser and Role.GOVERNANCE_ADMIN.label not in labels:
        labels.insert(0, Role.GOVERNANCE_ADMIN.label)
    return labels


class IsAgentRuntime(BasePermission):
    """The caller authenticated with a runtime bearer token."""

    message = "This endpoint is for agent runtimes (Authorization: Bearer <runtime token>)."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, AgentRuntime) and request.user.is_active


class CanViewRuntimesOrAdmin(BasePermission):
    """Read for governance admins and auditors, write for governance admins."""

    message = "Only governance admins and auditors see agent runtimes."

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can_view_runtimes(request.user)
        return is_governance_admin(request.user)


class IsGovernanceAdmin(BasePermission):
    message = "Only governance admins may change the governance configuration."

    def has_permission(self, request, view) -> bool:
        return is_governance_admin(request.user)


class CanViewPolicyOrAdmin(BasePermission):
    """Read for overseeing roles, write for governance admins."""

    message = "Only governance admins may change the governance configuration."

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can_view_policy(request.user)
        return is_governance_admin(request.user)
