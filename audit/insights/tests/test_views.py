"""The insights' pages and chart JSON: figures, links into the log, who sees what."""

import json

import pytest
from django.urls import reverse

from audit.insights.rollups import rollups_refresh
from audit.insights.tuning import (
    recommendations_refresh,
)
from audit.models import Recommendation
from governance.models import ActionType

pytestmark = pytest.mark.django_db


CHART_NAMES = list(__import__("audit.insights.charts", fromlist=["CHARTS"]).CHARTS)


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
