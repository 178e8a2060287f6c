"""The quarterly review: page, CSV and sign-off."""

import pytest

from audit.insights.rollups import rollups_refresh
from audit.models import AuditEvent
from governance.services import action_type_update

pytestmark = pytest.mark.django_db


def test_quarterly_review_exports_and_signs_off(client, governance_admin, history):
    from audit.insights.quarterly import Quarter

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


def test_the_quarterly_csv_has_every_configuration_change(
    client, governance_admin, policy, monkeypatch
):
    from audit.insights.quarterly import CONFIG_EVENTS, Quarter

    monkeypatch.setattr("audit.insights.quarterly.PAGE_CHANGES", 2)
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
