"""One assertion per filter of the audit log (page, API and exports share the FilterSet)."""

import pytest

from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def filtered(**params):
    return AuditEventFilterSet(params, queryset=AuditEvent.objects.all()).qs


def test_event_type(log):
    assert set(filtered(event_type=["decision_rejected"]).values_list("event_type", flat=True)) == {
        "decision_rejected"
    }


def test_action(log):
    assert {e.action for e in filtered(action="crm.update_record")} == {"crm.update_record"}


def test_outcome(log):
    assert {e.reason for e in filtered(outcome=["deny"])} == {"data_source_out_of_scope"}


def test_approval_kinds(log):
    assert {e.approval for e in filtered(approval="auto")} == {"auto"}
    assert {e.approval for e in filtered(approval="human")} == {"human:alex@corp.example"}
    assert all(not e.approval for e in filtered(approval="none"))


def test_approver(log):
    approved = filtered(approver="alex@corp.example")
    assert approved.exists() and all("alex@corp.example" in e.approval for e in approved)
    assert not filtered(approver="blake@corp.example").exists()


def test_on_behalf_of_ignores_case(log):
    assert (
        filtered(on_behalf_of="SAM@corp.example").count()
        == filtered(on_behalf_of="sam@corp.example").count()
        > 0
    )


def test_actor_and_runtime(log):
    assert (
        filtered(runtime="sales-agent").count() == filtered(actor="runtime:sales-agent").count() > 0
    )
    assert {e.actor for e in filtered(actor="user:alex@corp.example")} == {"user:alex@corp.example"}


def test_profile(log):
    assert filtered(profile="sales").count() > 0
    assert not filtered(profile="other").exists()


def test_connector_matches_the_changed_connector_and_data_sources(log):
    by_mail = filtered(connector="mail")
    assert {e.action for e in by_mail} == {"mail.send_external"}
    assert "crm.read_record" in {e.action for e in filtered(connector="crm")}


def test_plugin_by_slug_or_version(log):
    assert filtered(plugin="outreach").count() == filtered(plugin="outreach@2.1.0").count() > 0
    assert not filtered(plugin="outreach@2.0.0").exists()


def test_model(log):
    assert filtered(model="claude-sonnet-4-5").count() > 0
    assert not filtered(model="gpt").exists()


def test_reason(log):
    assert {e.action for e in filtered(reason="data_source_out_of_scope")} == {"crm.read_record"}


def test_time_range(log):
    first = AuditEvent.objects.order_by("id").first()
    assert filtered(before=first.timestamp.isoformat()).count() == 0
    assert filtered(after=first.timestamp.isoformat()).count() == AuditEvent.objects.count()


def test_an_invalid_filter_is_refused_not_ignored(log, client, auditor):
    client.force_login(auditor)
    response = client.get("/audit/?reason=not_a_reason")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_request_id(log):
    event = AuditEvent.objects.filter(request_id__gt="").first()
    assert set(filtered(q=event.request_id).values_list("request_id", flat=True)) == {
        event.request_id
    }


def test_decision_ids(log):
    first, second, *_ = (
        AuditEvent.objects.filter(decision__isnull=False)
        .values_list("decision_id", flat=True)
        .distinct()
    )
    found = filtered(decision=f"{first},{second}")
    assert found.exists()
    assert {e.decision_id for e in found} == {first, second}
    form = AuditEventFilterSet({"decision": "not-a-uuid"}, queryset=AuditEvent.objects.all())
    assert not form.is_valid()
