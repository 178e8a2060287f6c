"""Console pages of the policy domain. Thin: selectors read, templates render."""

from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from approvals.models import ApprovalRequest
from audit.insights.dashboard import last_days_summary
from catalog.models import CatalogItem
from catalog.permissions import is_intake_reviewer
from catalog.selectors import intake_work_for
from governance import permissions
from governance.choices import DecisionStatus
from governance.filters import (
    ActionTypeFilterSet,
    DecisionFilterSet,
    ProfileFilterSet,
    RuntimeFilterSet,
)
from governance.models import ActionType, AgentRuntime, Decision, PermissionProfile
from governance.selectors import (
    decision_list_for_user,
    on_behalf_of_q,
    policy_revision_current,
)

PAGE_SIZE = 50


def role_required(predicate):
    """Refuse (403) people whose roles do not pass `predicate`; anonymous -> login."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def filtered_page(request, filterset, order_by=None):
    """The page of a filtered list and its HTTP status. An invalid filter shows its error
    and no rows (400), never the unfiltered list: a silently dropped filter would let
    someone believe they see only what they asked for."""
    if not filterset.is_valid():
        return paginate(request, filterset.queryset.none()), 400
    queryset = filterset.qs.order_by(*order_by) if order_by else filterset.qs
    return paginate(request, queryset), 200


@require_GET
def healthz(request):
    """Liveness and database reachability for load balancers (no data disclosed)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    """A home page per role: what needs you, and where to go next."""
    user = request.user
    context = {
        "my_decisions": Decision.objects.filter(on_behalf_of_q(user))
        .select_related("runtime")
        .order_by("-created_at")[:5],
        "is_admin": permissions.is_governance_admin(user),
        "is_approver": permissions.is_approver(user),
        "is_leadership": permissions.is_leadership(user),
        "is_auditor": permissions.is_auditor(user),
        "is_owner": permissions.is_connector_owner(user),
    }
    if permissions.can_view_policy(user):
        # The dashboard's own window and rollups: Home and Dashboard show the same numbers.
        context.update(last_days_summary(30))
        context["policy_revision"] = policy_revision_current()[0]
        context["can_see_dashboards"] = permissions.can_see_dashboards(user)
    if context["is_approver"]:
        context["awaiting_me"] = (
            ApprovalRequest.objects.pending()
            .filter(group__in=user.groups.all())
            .exclude(on_behalf_of_q(user, "decision__"))
            .exclude(votes__voter=user)
            .count()
        )
    if context["is_admin"]:
        context["admin_counts"] = {
            "profiles": PermissionProfile.objects.active().count(),
            "allowlisted": ActionType.objects.filter(auto_execute=True).count(),
            "action_types": ActionType.objects.count(),
            "runtimes": AgentRuntime.objects.active().count(),
        }
    if context["is_owner"]:
        context["owned_items"] = CatalogItem.objects.filter(
            Q(owner=user) | Q(owning_group__in=user.groups.all())
        ).distinct()[:10]
    if is_intake_reviewer(user):
        context["intake_work"] = intake_work_for(user)
    return render(request, "home.html", context)


@login_required
def decision_list(request):
    """Decisions, newest first: everything for overseeing roles, one's own otherwise."""
    filterset = DecisionFilterSet(request.GET, queryset=decision_list_for_user(request.user))
    page, status = filtered_page(request, filterset, order_by=["-created_at"])
    return render(
        request,
        "governance/decision_list.html",
        {
            "filter": filterset,
            "page": page,
            "own_only": not permissions.can_view_policy(request.user),
        },
        status=status,
    )


@login_required
def decision_detail(request, pk):
    decision = decision_list_for_user(request.user).filter(pk=pk).first()
    if decision is None:
        raise Http404("No such decision.")
    approval = (
        ApprovalRequest.objects.filter(decision=decision).prefetch_related("votes__voter").first()
    )
    events = decision.audit_events.order_by("id")
    return render(
        request,
        "governance/decision_detail.html",
        {"decision": decision, "approval": approval, "events": events},
    )


@role_required(permissions.can_view_policy)
def profile_list(request):
    queryset = (
        PermissionProfile.objects.select_related("owner")
        .annotate(grant_count=Count("grants", distinct=True))
        .order_by("slug")
    )
    filterset = ProfileFilterSet(request.GET, queryset=queryset)
    page, status = filtered_page(request, filterset)
    return render(
        request,
        "governance/profile_list.html",
        {
            "filter": filterset,
            "page": page,
            "can_edit": permissions.can_manage_policy(request.user),
        },
        status=status,
    )


@role_required(permissions.can_view_policy)
def profile_detail(request, slug):
    profile = get_object_or_404(
        PermissionProfile.objects.select_related("owner").prefetch_related(
            "launcher_groups",
            "launcher_users",
            "plugins__versions",
            "grants__connector",
            "runtimes",
        ),
        slug=slug,
    )
    unusable = [
        item
        for item in [*profile.plugins.all(), *(g.connector for g in profile.grants.all())]
        if item.status != "approved"
    ]
    recent = Decision.objects.filter(profile_slug=profile.slug).order_by("-created_at")[:10]
    return render(
        request,
        "governance/profile_detail.html",
        {
            "profile": profile,
            "unusable": unusable,
            "recent": recent,
            "can_edit": permissions.can_manage_policy(request.user),
        },
    )


@role_required(permissions.can_view_policy)
def action_type_list(request):
    filterset = ActionTypeFilterSet(
        request.GET, queryset=ActionType.objects.select_related("approver_group")
    )
    page, status = filtered_page(request, filterset)
    return render(
        request,
        "governance/action_type_list.html",
        {
            "filter": filterset,
            "page": page,
            "can_edit": permissions.can_manage_policy(request.user),
        },
        status=status,
    )


@role_required(permissions.can_view_policy)
def action_type_detail(request, pk):
    action_type = get_object_or_404(
        ActionType.objects.select_related("approver_group", "escalation_group"), pk=pk
    )
    since = timezone.now() - timedelta(days=90)
    stats = Decision.objects.filter(action=action_type.key, created_at__gte=since).aggregate(
        total=Count("id"),
        allowed=Count("id", filter=Q(approval="auto")),
        approved=Count("id", filter=Q(outcome="pending", approval__startswith="human:")),
        rejected=Count("id", filter=Q(status=DecisionStatus.REJECTED)),
        denied=Count("id", filter=Q(outcome="deny")),
    )
    profiles = [p for p in PermissionProfile.objects.all() if action_type.key in p.action_types]
    return render(
        request,
        "governance/action_type_detail.html",
        {
            "action_type": action_type,
            "stats": stats,
            "profiles": profiles,
            "can_edit": permissions.can_manage_policy(request.user),
        },
    )


@role_required(permissions.can_view_runtimes)
def runtime_list(request):
    filterset = RuntimeFilterSet(
        request.GET, queryset=AgentRuntime.objects.prefetch_related("profiles")
    )
    page, status = filtered_page(request, filterset)
    return render(
        request,
        "governance/runtime_list.html",
        {
            "filter": filterset,
            "page": page,
            "is_admin": permissions.is_governance_admin(request.user),
        },
        status=status,
    )
