"""Dashboards, tuning and the quarterly review (pages and chart JSON).

Dashboards and the review are for leadership and governance admins; applying, dismissing
and signing off are for governance admins. Everything shown comes from the rollups and
stored recommendations; the simulator replays decisions on request only."""

import csv
import hashlib
import json
from datetime import timedelta

from csp.decorators import csp_update
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import json_script
from django.views.decorators.http import require_POST

from audit.choices import RecommendationStatus
from audit.insights.charts import CHARTS, NOTES, PLOTLY_CSP, PLOTLY_JS
from audit.insights.dashboard import (
    WINDOWS,
    WindowError,
    decision_times,
    denials,
    freshness,
    near_misses,
    totals,
    window_parse,
)
from audit.insights.headline import AT_RISK_WITHIN, approvals_at_risk, metrics
from audit.insights.quarterly import Quarter, QuarterError, quarter_review, quarterly_signoff
from audit.insights.simulator import CHANGE_KINDS, Change, change_parse, simulate
from audit.insights.tuning import (
    change_apply,
    recommendation_apply,
    recommendation_dismiss,
    tuning_settings,
)
from audit.models import QuarterlySignOff, Recommendation
from audit.selectors import spreadsheet_safe
from catalog.permissions import can_view_intake
from governance import permissions
from governance.conditions import Effect
from governance.exceptions import ApplicationError
from governance.models import ActionType, PermissionProfile
from governance.shadow import shadow_counts_all
from governance.views import role_required

CHART_ORDER = [
    "over-time",
    "share",
    "approval-rate",
    "decision-time",
    "denial-reasons",
    "denials-by-connector",
    "denials-by-profile",
    "near-misses",
    "volume-by-profile",
    "volume-by-runtime",
]


@role_required(permissions.can_see_dashboards)
@csp_update(PLOTLY_CSP)
def dashboard_view(request):
    try:
        window = window_parse(request.GET)
    except WindowError as error:
        context = {"error": str(error), "windows": WINDOWS}
        return render(request, "audit/insights/dashboard.html", context, status=400)
    return render(
        request,
        "audit/insights/dashboard.html",
        {
            **_headline_context(window, request.user),
            "windows": WINDOWS,
            "plotly_js": PLOTLY_JS,
            "charts": _charts(window),
            "profiles": PermissionProfile.objects.values_list("slug", flat=True),
            "actions": ActionType.objects.values_list("key", flat=True),
        },
    )


def _headline_context(window, user) -> dict:
    """What the dashboard and its printable summary both show above the charts."""
    at_risk_count, at_risk = approvals_at_risk()
    return {
        "window": window,
        "previous": window.previous(),
        "totals": totals(window),
        "metrics": metrics(window),
        "at_risk_count": at_risk_count,
        "at_risk": at_risk,
        "at_risk_hours": AT_RISK_WITHIN.total_seconds() / 3600,
        "now": timezone.now(),
        "can_open_decisions": permissions.can_view_policy(user),
        **freshness(),
    }


@role_required(permissions.can_see_dashboards)
def summary_view(request):
    """The headline on one printable page: numbers and tables, no scripts."""
    try:
        window = window_parse(request.GET)
    except WindowError as error:
        context = {"error": str(error), "windows": WINDOWS}
        return render(request, "audit/insights/dashboard.html", context, status=400)
    context = _headline_context(window, request.user)
    context["total"] = sum(context["totals"].values())
    context["denial_reasons"] = denials(window, "reason", limit=5)
    context["near_misses"] = near_misses(window)
    context["bottlenecks"] = decision_times(window)
    return render(request, "audit/insights/summary.html", context)


# Figures change only when the rollups are refreshed: keep them that long at most.
CHARTS_CACHE_SECONDS = 600


def _charts(window) -> list[dict]:
    """The ten charts of `window`, built once per rollup refresh: the key holds the refresh
    time, so a refresh makes the next page build them again from the new counts."""
    refreshed_at = freshness()["refreshed_at"]
    if refreshed_at is None:
        return [_chart_in_page(name, window) for name in CHART_ORDER]
    key = "insights:charts:" + hashlib.sha256(repr((window, refreshed_at)).encode()).hexdigest()
    return cache.get_or_set(
        key, lambda: [_chart_in_page(name, window) for name in CHART_ORDER], CHARTS_CACHE_SECONDS
    )


def _chart_in_page(name: str, window) -> dict:
    """One chart for the dashboard: its figure as JSON, drawn by charts.js when the chart
    scrolls into view (ten figures drawn at once held the first paint for seconds), and
    its title as the card's heading (where it wraps on a narrow screen instead of being
    cut off) rather than inside the figure."""
    figure, table = CHARTS[name](window)
    title = figure.layout.title.text
    figure.layout.title = None
    return {
        "name": name,
        "figure_script": json_script(json.loads(figure.to_json()), f"chart-{name}-figure"),
        "table": table,
        "title": title,
        "note": NOTES.get(name),
    }


@role_required(permissions.can_see_dashboards)
def chart_json(request, name):
    """One chart as Plotly figure JSON, for the same window and filters as the page."""
    if name not in CHARTS:
        raise Http404("No such chart.")
    try:
        window = window_parse(request.GET)
    except WindowError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    figure, _ = CHARTS[name](window)
    return HttpResponse(figure.to_json(), content_type="application/json")


@role_required(permissions.can_see_dashboards)
def tuning_view(request):
    status = request.GET.get("status", RecommendationStatus.OPEN)
    if status not in RecommendationStatus.values:
        return HttpResponseBadRequest("status must be open, applied or dismissed.")
    return render(
        request,
        "audit/insights/tuning.html",
        {
            "recommendations": Recommendation.objects.filter(status=status).select_related(
                "decided_by"
            ),
            "status": status,
            "statuses": RecommendationStatus.choices,
            "is_admin": permissions.is_governance_admin(request.user),
            "window_days": tuning_settings()["window_days"],
            **freshness(),
            "kinds": CHANGE_KINDS,
            "profiles": PermissionProfile.objects.values_list("slug", flat=True),
            "actions": ActionType.objects.values_list("key", flat=True),
            "shadow": shadow_counts_all(days=tuning_settings()["window_days"]),
        },
    )


def _simulation_window(request) -> tuple:
    days = request.GET.get("days") or request.POST.get("days") or "90"
    if not days.isdigit() or int(days) not in WINDOWS:
        raise WindowError(f"days must be one of {', '.join(map(str, WINDOWS))}.")
    end = timezone.now()
    return end - timedelta(days=int(days)), end, int(days)


EVIDENCE_LABELS = {
    "routed_to_people": "Went to people",
    "approval_rate": "Approval rate (of those decided)",
    "profile_requests": "All the profile's requests",
    "median_minutes": "Median wait (minutes)",
    "p90_minutes": "90th percentile wait (minutes)",
    "within_sla": "Decided within the SLA",
    "decided": "Decided",
}


def _evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """The evidence as label and readable value (a rate as a percentage, yes or no)."""
    rows = []
    for key, value in evidence.items():
        if key == "link":
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif key.endswith("rate") and isinstance(value, int | float):
            value = f"{value:.0%}"
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        rows.append((EVIDENCE_LABELS.get(key, key.replace("_", " ").capitalize()), value))
    return rows


@role_required(permissions.can_see_dashboards)
def recommendation_detail(request, pk):
    recommendation = get_object_or_404(Recommendation, pk=pk)
    context = {
        "recommendation": recommendation,
        "evidence": _evidence_rows(recommendation.evidence or {}),
        "change_text": (
            Change.from_dict(recommendation.change).describe() if recommendation.change else ""
        ),
        "is_admin": permissions.is_governance_admin(request.user),
    }
    if recommendation.change and request.GET.get("simulate"):
        try:
            start, end, days = _simulation_window(request)
            context["simulation"] = simulate(
                change_parse(recommendation.change), start=start, end=end
            )
            context["days"] = days
        except (WindowError, ApplicationError) as error:
            context["error"] = getattr(error, "message", str(error))
    return render(request, "audit/insights/recommendation_detail.html", context)


@role_required(permissions.is_governance_admin)
@require_POST
def recommendation_act(request, pk, action):
    recommendation = get_object_or_404(Recommendation, pk=pk)
    note = request.POST.get("note", "")
    try:
        if action == "apply":
            recommendation_apply(recommendation, actor=request.user, note=note)
            messages.success(
                request,
                "Applied: the configuration changed (audited; the policy revision moved on).",
            )
        elif action == "dismiss":
            recommendation_dismiss(recommendation, actor=request.user, reason=note)
            messages.success(request, "Dismissed, with your reason recorded.")
        else:
            raise Http404("No such action.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(recommendation.get_absolute_url())


@role_required(permissions.is_governance_admin)
def simulate_view(request):
    """A hand-made change: simulate it, then apply it if it does what you want."""
    data = request.POST if request.method == "POST" else request.GET
    context = {
        "kinds": CHANGE_KINDS,
        "effects": [e.value for e in Effect],
        "form": data,
        "profiles": PermissionProfile.objects.values_list("slug", flat=True),
        "actions": ActionType.objects.values_list("key", flat=True),
    }
    if not data.get("kind"):
        return render(request, "audit/insights/simulate.html", context)
    try:
        change = change_parse(dict(data.items()))
        start, end, days = _simulation_window(request)
    except (WindowError, ApplicationError) as error:
        context["error"] = getattr(error, "message", str(error))
        return render(request, "audit/insights/simulate.html", context, status=400)
    if request.method == "POST" and data.get("apply"):
        try:
            change_apply(change, actor=request.user)
        except ApplicationError as error:
            context["error"] = error.message
            return render(
                request, "audit/insights/simulate.html", context, status=error.status_code
            )
        messages.success(request, f"Applied: {change.describe()}.")
        return redirect(reverse("audit:tuning"))
    context.update(simulation=simulate(change, start=start, end=end), days=days, change=change)
    return render(request, "audit/insights/simulate.html", context)


@role_required(permissions.can_see_dashboards)
def quarterly_view(request):
    try:
        quarter = Quarter.parse(request.GET.get("quarter") or Quarter.current().label)
    except QuarterError as error:
        return render(request, "audit/insights/quarterly.html", {"error": str(error)}, status=400)
    review = quarter_review(quarter)
    if request.GET.get("format") == "csv":
        return _quarterly_csv(quarter, review)
    return render(
        request,
        "audit/insights/quarterly.html",
        {
            "quarter": quarter,
            "review": review,
            "signoffs": QuarterlySignOff.objects.filter(quarter=quarter.label).select_related(
                "signed_by"
            ),
            "is_admin": permissions.is_governance_admin(request.user),
            "quarters": Quarter.recent(6),
            # Leadership reads the review but not every intake request: name those, link
            # only the ones this person may open.
            "open_intake": [(r, can_view_intake(request.user, r)) for r in review.open_intake],
        },
    )


def _quarterly_csv(quarter, review) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quarterly-review-{quarter.label}.csv"'
    writer = csv.writer(response)
    writer.writerow(["section", "item", "detail", "count"])
    for section, rows in review.csv_rows():
        for row in rows:
            writer.writerow([spreadsheet_safe(cell) for cell in (section, *row)])
    return response


@role_required(permissions.is_governance_admin)
@require_POST
def quarterly_signoff_view(request):
    try:
        quarter = Quarter.parse(request.POST.get("quarter", ""))
        quarterly_signoff(quarter, actor=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"Signed off {quarter.label}.")
    except (QuarterError, ApplicationError) as error:
        messages.error(request, getattr(error, "message", str(error)))
        return redirect(reverse("audit:quarterly"))
    return redirect(f"{reverse('audit:quarterly')}?quarter={quarter.label}")
