"""Navigation: each person sees the parts of the console their roles may use."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from audit.selectors import can_read_audit
from governance import permissions


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    section: str  # matched against the first path segment to highlight the current page
    badge: int | None = None


def _items_for(user) -> list[NavItem]:
    items = [NavItem("Home", "home", "")]
    if permissions.is_approver(user):
        from approvals.selectors import inbox_count

        items.append(NavItem("Inbox", "approvals:inbox", "approvals", badge=inbox_count(user)))
    if permissions.can_view_policy(user):
        items += [
            NavItem("Decisions", "governance:decision_list", "decisions"),
            NavItem("Profiles", "governance:profile_list", "profiles"),
            NavItem("Action types", "governance:action_type_list", "action-types"),
        ]
    else:
        items.append(NavItem("My agents' decisions", "governance:decision_list", "decisions"))
    items.append(NavItem("Catalog", "catalog:catalog_item_list", "catalog"))
    if permissions.is_governance_admin(user) or permissions.is_auditor(user):
        items.append(NavItem("Runtimes", "governance:runtime_list", "runtimes"))
    if can_read_audit(user):
        items.append(NavItem("Audit log", "audit:event_list", "audit"))
    if permissions.is_leadership(user) or permissions.is_governance_admin(user):
        items.insert(1, NavItem("Dashboard", "audit:dashboard", "audit"))
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    section = request.path.strip("/").split("/")[0]
    nav = []
    for item in _items_for(user):
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # a part of the console this deployment does not route
            continue
        nav.append(
            {
                "label": item.label,
                "url": url,
                "active": item.section == section,
                "badge": item.badge,
            }
        )
    return {
        "nav_items": nav,
        "nav_roles": permissions.roles_of(user),
        "nav_is_staff": user.is_staff,
    }


def single_sign_on(request):
    """The sign-in page's "Sign in with <provider>" link, and whether passwords are on."""
    from governance.oidc import oidc_enabled

    return {
        "sso_enabled": oidc_enabled(),
        "sso_name": settings.OIDC_PROVIDER_NAME,
        "local_passwords": settings.LOCAL_PASSWORDS,
    }
