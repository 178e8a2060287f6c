"""Dashboards and tuning: rollups equal a recomputation, each recommendation rule, the
simulator against hand-computed expectations, apply/dismiss, chart JSON, permissions."""

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_request_expire, approval_vote_cast
from audit.choices import RecommendationKind
from audit.models import AuditEvent, DecisionRollup, Recommendation
from audit.rollups import BUCKETS, category_of, percentile, rollups_refresh
from audit.simulator import change_parse, simulate
from audit.tuning import (
    recommendation_apply,
    recommendation_dismiss,
    recommendations_compute,
    recommendations_refresh,
)
from governance.exceptions import Conflict, PermissionDenied, ValidationFailed
from governance.models import ActionType, Decision
from governance.selectors import policy_revision_current
from governance.services import action_type_update

pytestmark = pytest.mark.django_db

UPDATE = dict(
    action="crm.update_record",
    connector="crm",
    data_sources=["crm:opportunity/9"],
    params={"stage": "won"},
)
SEND = dict(
    action="mail.send_external",
    connector="mail",
    data_sources=["mail:outbox/1"],
    params={"to": "x@y.example"},
)


def approve_all(voter, action):
    for approval in ApprovalRequest.objects.filter(status="pending", decision__action=action):
        approval_vote_cast(approval.pk, voter=voter, verdict="approve")


def direct_counts() -> Counter:
    counts = Counter()
    for d in Decision.objects.all():
        counts[(category_of(d.outcome, d.status, d.approval), d.action)] += 1
    return counts


def rollup_counts() -> Counter:
    counts = Counter()
    for row in DecisionRollup.objects.all():
        counts[(row.category, row.action)] += row.count
    return counts


@pytest.fixture
def history(decide, approver):
    """Reads, denials, approved updates, a rejected send, an expired send, a pending one."""
    for _ in range(3):
        decide()
    decide(data_sources=["crm:contact/1"])
    for _ in range(4):
        decide(**UPDATE)
    approve_all(approver, "crm.update_record")
    decide(**SEND)
    rejected = ApprovalRequest.objects.get(decision__action="mail.send_external", status="pending")
    approval_vote_cast(rejected.pk, voter=approver, verdict="reject", comment="no")
    decide(**SEND)
    expiring = ApprovalRequest.objects.get(decision__action="mail.send_external", status="pending")
    approval_request_expire(expiring.pk, now=expiring.expires_at + timedelta(seconds=1))
    decide(**SEND)  # left pending


def test_rollups_equal_a_direct_recomputation(history):
    rollups_refresh(full=True)
    assert rollup_counts() == direct_counts()
    assert rollup_counts()[("approved", "crm.update_record")] == 4
    assert rollup_counts()[("expired", "mail.send_external")] == 1


def test_incremental_refresh_catches_later_resolutions_and_is_idempotent(history, approver):
    rollups_refresh(full=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        approve_all(approver, "mail.send_external")
        rollups_refresh()
    assert rollup_counts() == direct_counts()
    assert rollup_counts()[("pending", "mail.send_external")] == 0
    rows = sorted(DecisionRollup.objects.values_list("day", "category", "action", "count"))
    rollups_refresh()
    rollups_refresh(full=True)
    assert sorted(DecisionRollup.objects.values_list("day", "category", "action", "count")) == rows


def test_percentiles_come_from_histogram_buckets():
    histogram = [0] * (len(BUCKETS) + 1)
    histogram[1] = 5  # five decisions between 1 and 2 minutes
    histogram[4] = 5  # five between 10 and 20 minutes
    assert percentile(histogram, 0.5) == 120
    assert percentile(histogram, 0.9) == 1200
    assert percentile([0] * (len(BUCKETS) + 1), 0.5) is None


@pytest.fixture
def waved_through(decide, approver, settings):
    """crm.update_record approved every time, mail.send_external too (but irreversible)."""
    settings.TUNING = {**settings.TUNING, "min_count": 3}
    for _ in range(3):
        decide(**UPDATE)
        decide(**SEND)
    approve_all(approver, "crm.update_record")
    approve_all(approver, "mail.send_external")
    rollups_refresh(full=True)


def kinds(found) -> dict:
    return {r["key"]: r for r in found}


def test_an_action_people_always_approve_is_an_allow_list_candidate(waved_through):
    found = kinds(recommendations_compute())
    candidate = found["allowlist:crm.update_record"]
    assert candidate["kind"] == RecommendationKind.ALLOWLIST_CANDIDATE
    assert candidate["change"] == {
        "kind": "allowlist_add",
        "action": "crm.update_record",
        "profile": "",
        "connector": "",
        "resources": [],
        "access": "read",
    }
    assert candidate["evidence"]["approval_rate"] == 1.0
    assert candidate["evidence"]["link"].startswith("/audit/?")


def test_an_irreversible_action_is_never_proposed_for_auto_execution_only_flagged(waved_through):
    found = kinds(recommendations_compute())
    assert "allowlist:mail.send_external" not in found
    flag = found["flag:mail.send_external"]
    assert flag["kind"] == RecommendationKind.ALWAYS_APPROVED_FLAG
    assert flag["change"] is None


def test_one_rejection_or_too_few_requests_is_no_candidate(
    decide, approver, second_approver, settings
):
    settings.TUNING = {**settings.TUNING, "min_count": 3}
    for _ in range(3):
        decide(**UPDATE)
    approvals = list(ApprovalRequest.objects.filter(decision__action="crm.update_record"))
    approval_vote_cast(approvals[0].pk, voter=approver, verdict="reject", comment="no")
    for approval in approvals[1:]:
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    rollups_refresh(full=True)
    assert "allowlist:crm.update_record" not in kinds(recommendations_compute())
    settings.TUNING = {**settings.TUNING, "min_count": 10}
    assert "allowlist:crm.update_record" not in kinds(recommendations_compute())


def test_denials_that_concentrate_are_a_cluster(decide, settings):
    settings.TUNING = {**settings.TUNING, "cluster_min": 3, "cluster_share": 0.5}
    decide()
    for n in range(4):
        decide(data_sources=[f"crm:contact/{n}"])
    rollups_refresh(full=True)
    cluster = kinds(recommendations_compute())["denials:sales:data_source_out_of_scope:crm"]
    assert cluster["evidence"]["denials"] == 4 and cluster["evidence"]["profile_requests"] == 5


def test_a_group_slower_than_its_sla_is_a_bottleneck(decide, approver, policy):
    policy.action_types.update.approval_sla_minutes = 10
    policy.action_types.update.approval_ttl_minutes = 600
    policy.action_types.update.save()
    decide(**UPDATE)
    approval = ApprovalRequest.objects.get()
    with time_machine.travel(approval.created_at + timedelta(hours=2)):
        approval_vote_cast(approval.pk, voter=approver, verdict="approve")
    rollups_refresh(full=True)
    bottleneck = kinds(recommendations_compute())["bottleneck:Approvers"]
    assert (bottleneck["evidence"]["within_sla"], bottleneck["evidence"]["decided"]) == (0, 1)
    assert bottleneck["evidence"]["median_minutes"] >= 120


def test_access_not_exercised_in_90_days_is_flagged(decide):
    decide()
    rollups_refresh(full=True)
    found = kinds(recommendations_compute())
    assert "unused-action:sales:mail.send_external" in found
    assert "unused-action:sales:crm.read_record" not in found
    assert "unused-grant:sales:mail:outbox/*:write" in found
    assert found["unused-grant:sales:mail:outbox/*:write"]["change"]["kind"] == "grant_remove"


def test_refresh_stores_recommendations_and_does_not_repeat_a_dismissed_one(
    waved_through, governance_admin
):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    recommendation_dismiss(
        candidate, actor=governance_admin, reason="Sales leads want to see these"
    )
    recommendations_refresh()
    assert not Recommendation.objects.filter(
        key="allowlist:crm.update_record", status="open"
    ).exists()


def test_simulation_matches_a_hand_computed_replay(waved_through, decide):
    decide()
    decide()
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    result = simulate(
        change_parse({"kind": "allowlist_add", "action": "crm.update_record"}), **window
    )
    assert result.replayed == 3  # only crm.update_record requests can change
    assert simulate(result.change, scoped=False, **window).replayed == 8
    assert result.transitions == Counter({("pending", "allow"): 3})
    assert len(result.examples[("pending", "allow")]) == 3
    result = simulate(
        change_parse(
            {
                "kind": "grant_remove",
                "profile": "sales",
                "connector": "crm",
                "resources": "account/*",
                "access": "read",
            }
        ),
        **window,
    )
    assert result.transitions == Counter({("allow", "deny"): 2})
    result = simulate(
        change_parse(
            {"kind": "profile_action_remove", "profile": "sales", "action": "mail.send_external"}
        ),
        **window,
    )
    assert result.transitions == Counter({("pending", "deny"): 3})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "allowlist_add", "action": "nope.nope"}, "no action type"),
        ({"kind": "allowlist_add", "action": "mail.send_external"}, "irreversible"),
        ({"kind": "grant_add", "profile": "sales"}, "needs a connector"),
        (
            {"kind": "grant_remove", "profile": "sales", "connector": "crm", "resources": "x/*"},
            "no such grant",
        ),
        ({"kind": "teleport"}, "Choose what to change"),
    ],
)
def test_impossible_changes_are_refused_plainly(policy, data, message):
    with pytest.raises(ValidationFailed, match=message):
        change_parse(data)


def test_applying_a_recommendation_changes_the_policy_with_an_audit_trail(
    waved_through, governance_admin, decide
):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    revision = policy_revision_current()[0]
    recommendation_apply(candidate, actor=governance_admin)
    assert ActionType.objects.get(key="crm.update_record").auto_execute is True
    assert policy_revision_current()[0] > revision
    assert AuditEvent.objects.filter(event_type="recommendation_applied").count() == 1
    assert AuditEvent.objects.filter(
        event_type="config_updated", object_repr="crm.update_record"
    ).exists()
    assert decide(**UPDATE).json()["outcome"] == "allow"
    with pytest.raises(Conflict):
        recommendation_apply(candidate, actor=governance_admin)


def test_only_admins_apply_and_dismissing_needs_a_reason(waved_through, leader, governance_admin):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    with pytest.raises(PermissionDenied):
        recommendation_apply(candidate, actor=leader)
    with pytest.raises(ValidationFailed):
        recommendation_dismiss(candidate, actor=governance_admin, reason=" ")


def test_a_flag_cannot_be_applied(waved_through, governance_admin):
    recommendations_refresh()
    flag = Recommendation.objects.get(key="flag:mail.send_external")
    with pytest.raises(ValidationFailed, match="flag"):
        recommendation_apply(flag, actor=governance_admin)


CHART_NAMES = list(__import__("audit.charts", fromlist=["CHARTS"]).CHARTS)


@pytest.mark.parametrize("name", CHART_NAMES)
def test_chart_endpoints_return_plotly_figures(client, leader, history, name):
    rollups_refresh(full=True)
    client.force_login(leader)
    response = client.get(reverse("audit:chart_json", args=[name]) + "?days=7")
    assert response.status_code == 200
    figure = json.loads(response.content)
    assert figure["layout"]["title"]["text"]
    for trace in figure["data"]:
        assert all(url.startswith("/audit/?") for url in trace["customdata"])


def test_over_time_has_one_trace_per_category_with_the_counts(client, leader, history):
    rollups_refresh(full=True)
    client.force_login(leader)
    figure = json.loads(client.get(reverse("audit:chart_json", args=["over-time"])).content)
    totals = {trace["name"]: sum(trace["y"]) for trace in figure["data"]}
    assert totals == {
        "Allowed automatically": 3,
        "Approved by a person": 4,
        "Rejected by a person": 1,
        "Expired unanswered": 1,
        "Denied": 1,
        "Waiting for a person": 1,
    }
    assert figure["layout"]["yaxis"]["title"]["text"] == "Actions (count)"


def test_a_chart_link_opens_exactly_the_events_behind_the_bar(client, leader, auditor, history):
    rollups_refresh(full=True)
    client.force_login(leader)
    figure = json.loads(client.get(reverse("audit:chart_json", args=["approval-rate"])).content)
    url = figure["data"][0]["customdata"][figure["data"][0]["x"].index("crm.update_record")]
    client.force_login(auditor)
    page = client.get(url).content.decode()
    assert 'data-testid="event-count">4 events<' in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("leader", 200),
        ("governance_admin", 200),
        ("auditor", 403),
        ("approver", 403),
        ("outsider", 403),
    ],
)
def test_who_sees_the_dashboards(client, request, policy, persona, status):
    client.force_login(request.getfixturevalue(persona))
    for url in ("/audit/dashboard/", "/audit/tuning/", "/audit/quarterly/"):
        assert client.get(url).status_code == status


def test_the_dashboard_needs_a_sign_in(client):
    assert client.get("/audit/dashboard/").status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        "days=13",
        "start=2026-05-01&end=2026-04-01",
        "start=yesterday",
        "start=2020-01-01&end=2026-01-01",
    ],
)
def test_bad_windows_are_explained(client, leader, query):
    client.force_login(leader)
    response = client.get(f"/audit/dashboard/?{query}")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


def test_leadership_cannot_apply_or_sign_off(client, leader, waved_through):
    recommendations_refresh()
    candidate = Recommendation.objects.get(key="allowlist:crm.update_record")
    client.force_login(leader)
    assert client.post(f"/audit/tuning/{candidate.pk}/apply/").status_code == 403
    assert client.post("/audit/quarterly/sign-off/", {"quarter": "2026-Q4"}).status_code == 403
    assert client.get("/audit/tuning/simulate/").status_code == 403


def test_simulate_page_simulates_then_applies(client, governance_admin, waved_through):
    client.force_login(governance_admin)
    page = client.get(
        "/audit/tuning/simulate/?kind=allowlist_add&action=crm.update_record&days=7"
    ).content.decode()
    assert 'data-testid="sim-changed">3<' in page
    bad = client.get("/audit/tuning/simulate/?kind=allowlist_add&action=mail.send_external&days=7")
    assert bad.status_code == 400 and "irreversible" in bad.content.decode()
    client.post(
        "/audit/tuning/simulate/",
        {"kind": "allowlist_add", "action": "crm.update_record", "days": "7", "apply": "1"},
    )
    assert ActionType.objects.get(key="crm.update_record").auto_execute


def test_quarterly_review_exports_and_signs_off(client, governance_admin, history):
    from audit.quarterly import Quarter

    rollups_refresh(full=True)
    label = Quarter.current().label
    client.force_login(governance_admin)
    page = client.get(f"/audit/quarterly/?quarter={label}").content.decode()
    assert "data_source_out_of_scope" in page and "mail.send_external" in page
    export = client.get(f"/audit/quarterly/?quarter={label}&format=csv")
    assert export["Content-Type"].startswith("text/csv")
    assert b"denied by profile,sales,data_source_out_of_scope,1" in export.content
    client.post("/audit/quarterly/sign-off/", {"quarter": label, "note": "Reviewed with the CISO"})
    assert (
        'data-testid="signoff"' in client.get(f"/audit/quarterly/?quarter={label}").content.decode()
    )
    assert AuditEvent.objects.filter(event_type="quarterly_review_signed").count() == 1
    assert client.get("/audit/quarterly/?quarter=2026-Q5").status_code == 400


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "allowlist_add", "action": "crm.update_record"},
        {"kind": "allowlist_remove", "action": "crm.read_record"},
        {"kind": "grant_remove", "profile": "sales", "connector": "crm",
         "resources": "account/*", "access": "read"},
        {"kind": "grant_add", "profile": "sales", "connector": "crm",
         "resources": "contact/*", "access": "read"},
        {"kind": "profile_action_remove", "profile": "sales", "action": "mail.send_external"},
    ],
)  # fmt: skip
def test_replaying_only_the_decisions_a_change_can_touch_loses_nothing(waved_through, decide, data):
    decide()
    decide(data_sources=["crm:contact/9"])
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    change = change_parse(data)
    scoped, everything = simulate(change, **window), simulate(change, scoped=False, **window)
    assert scoped.transitions == everything.transitions
    assert scoped.transitions  # each of these changes does change something here
    assert scoped.replayed <= everything.replayed


def test_a_replay_over_the_limit_is_a_random_sample_scaled_to_the_whole(waved_through):
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    change = change_parse({"kind": "allowlist_add", "action": "crm.update_record"})
    result = simulate(change, limit=2, **window)
    threshold = uuid.UUID(int=int(2 / 3 * 2**128))
    in_sample = Decision.objects.filter(action="crm.update_record", pk__lt=threshold).count()
    assert (result.in_scope, result.sampled, result.replayed) == (3, True, in_sample)
    assert result.changed == in_sample
    assert result.changed_estimate == round(in_sample * 3 / 2)
    exact = simulate(change, limit=3, **window)
    assert (exact.sampled, exact.replayed, exact.changed_estimate) == (False, 3, 3)


def test_the_simulation_page_says_when_it_estimated(
    client, governance_admin, waved_through, settings
):
    settings.TUNING = {**settings.TUNING, "simulation_max": 1}
    client.force_login(governance_admin)
    page = client.get(
        "/audit/tuning/simulate/",
        {"kind": "allowlist_add", "action": "crm.update_record", "days": "7"},
    ).content.decode()
    assert "Estimated from a random sample" in page and "TUNING_SIMULATION_MAX" in page


def test_the_wait_time_chart_says_it_is_not_split_by_connector(client, leader, history):
    rollups_refresh(full=True)
    client.force_login(leader)
    figure = client.get("/audit/dashboard/charts/decision-time.json?days=7&connector=crm").json()
    assert figure["layout"]["title"]["text"].endswith(", all connectors")
    assert figure["data"][0]["x"]  # some group's wait times are drawn
    assert all("connector=" not in url for trace in figure["data"] for url in trace["customdata"])


def test_the_quarterly_csv_has_every_configuration_change(
    client, governance_admin, policy, monkeypatch
):
    from audit.quarterly import CONFIG_EVENTS, Quarter

    monkeypatch.setattr("audit.quarterly.PAGE_CHANGES", 2)
    for minutes in (10, 20, 30):
        action_type_update(
            policy.action_types.update, actor=governance_admin, approval_sla_minutes=minutes
        )
    client.force_login(governance_admin)
    label = Quarter.current().label
    page = client.get(f"/audit/quarterly/?quarter={label}").content.decode()
    assert "the CSV has every one" in page
    csv_text = client.get(f"/audit/quarterly/?quarter={label}&format=csv").content.decode()
    changes = [line for line in csv_text.splitlines() if line.startswith("configuration changes")]
    total = AuditEvent.objects.filter(event_type__in=CONFIG_EVENTS).count()
    assert len(changes) >= 3 and len(changes) == total
