"""The OCSF shape of an audit event, the sink configuration, the syslog framing and the
sinks' section of the integrity page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from approvals.services import approval_vote_cast
from audit.choices import EventType, SinkKind
from audit.models import AuditEvent, AuditSinkCursor
from audit.ocsf import ocsf_api_activity
from audit.services import SYSTEM, audit_event_record
from audit.sinks import SinkConfigError, sink_parse, sinks_parse, syslog_frame, token_variable
from audit.verification import event_rows

pytestmark = pytest.mark.django_db


def ocsf_of(event: AuditEvent, seal_id=None) -> dict:
    (row,) = list(event_rows(event.pk - 1, event.pk))
    return ocsf_api_activity(row, seal_id=seal_id)


def test_an_agents_decision_maps_to_api_activity_with_the_person_as_user(decide):
    decide(data_sources=["crm:contact/7"])
    event = AuditEvent.objects.get(event_type=EventType.DECISION_MADE)

    ocsf = ocsf_of(event, seal_id=12)

    assert (ocsf["class_uid"], ocsf["category_uid"], ocsf["type_uid"]) == (6003, 6, 600399)
    assert ocsf["activity_name"] == "decision_made"
    assert ocsf["actor"]["user"]["email_addr"] == event.on_behalf_of
    assert ocsf["actor"]["invoked_by"] == event.actor  # runtime:<name>
    assert ocsf["actor"]["app_name"] == event.actor.removeprefix("runtime:")
    assert ocsf["api"]["operation"] == event.action
    assert ocsf["api"]["request"]["uid"] == event.request_id
    assert {"type": "data_source", "name": "crm:contact/7", "uid": "crm:contact/7"} in ocsf[
        "resources"
    ]
    assert ocsf["status_code"] == event.outcome
    assert ocsf["time"] == int(event.timestamp.timestamp() * 1000)
    assert ocsf["metadata"]["uid"] == str(event.pk)
    assert ocsf["unmapped"]["audit"] == {
        "event_id": event.pk,
        "content_hash": event.content_hash,
        "hash_version": event.hash_version,
        "seal_id": 12,
    }
    record = ocsf["unmapped"]["record"]
    assert record["reversible"] == event.reversible and record["model"] == event.model
    json.dumps(ocsf)  # JSON-ready as it is


def test_a_denial_is_a_failure_and_a_human_approval_is_kept(decide, make_pending, approver):
    decide(data_sources=["crm:contact/7", "hr:salaries/1"])
    pending = make_pending("send")
    approval_vote_cast(pending.pk, voter=approver, verdict="approve")

    denied = AuditEvent.objects.filter(outcome="deny").latest("id")
    denial = ocsf_of(denied)
    approved = ocsf_of(AuditEvent.objects.get(event_type=EventType.DECISION_APPROVED))

    assert (denial["status_id"], denial["status"]) == (2, "Failure")
    assert denial["status_detail"] == denied.reason
    assert approved["unmapped"]["record"]["approval"].startswith("human:")


def test_a_configuration_change_is_an_update_by_the_person(governance_admin):
    event = audit_event_record(
        event_type=EventType.CONFIG_UPDATED,
        actor=governance_admin,
        object_type="governance.actiontype",
        object_id="4",
        object_repr="mail.send_external",
        changes={"before": {"auto_execute": False}, "after": {"auto_execute": True}},
    )

    ocsf = ocsf_of(event)

    assert (ocsf["activity_id"], ocsf["activity_name"], ocsf["status_id"]) == (3, "Update", 1)
    assert ocsf["actor"]["user"]["email_addr"] == governance_admin.email
    assert {"type": "governance.actiontype", "uid": "4", "name": "mail.send_external"} in ocsf[
        "resources"
    ]
    assert ocsf["unmapped"]["governance"]["changes"]["after"] == {"auto_execute": True}


def test_a_plugin_is_a_resource_with_its_version():
    event = audit_event_record(
        event_type=EventType.TOOL_RAN_UNAPPROVED, actor=SYSTEM, plugin="summarise@1.2.0"
    )

    ocsf = ocsf_of(event)

    assert {
        "type": "plugin",
        "name": "summarise",
        "uid": "summarise@1.2.0",
        "version": "1.2.0",
    } in (ocsf["resources"])
    assert ocsf["severity"] == "High" and ocsf["actor"]["user"]["type"] == "System"


def test_a_syslog_frame_is_octet_counted_rfc5424_with_the_json_as_message():
    record = {"time": 1764500000123, "severity_id": 1, "class_uid": 6003, "x": "é"}

    frame = syslog_frame(record, hostname="console")

    length, _, message = frame.partition(b" ")
    assert int(length) == len(message)
    assert message.startswith(b"<110>1 2025-11-30T10:53:20.123Z console agc - audit - {")
    assert json.loads(message.split(b" - ", 2)[2]) == record
    assert message.isascii()


@pytest.mark.parametrize(
    ("value", "kind", "name", "url"),
    [
        ("syslog+tcp://10.0.0.5:514", SinkKind.SYSLOG, "syslog-10.0.0.5-514", None),
        ("syslog+tls://siem:6514#name=siem", SinkKind.SYSLOG, "siem", "syslog+tls://siem:6514"),
        (
            "https://splunk:8088/services/collector/event?channel=1#name=splunk&format=hec",
            SinkKind.HTTP,
            "splunk",
            "https://splunk:8088/services/collector/event?channel=1",
        ),
    ],
)
def test_sinks_are_read_from_urls(value, kind, name, url):
    sink = sink_parse(value)

    assert (sink.kind, sink.name) == (kind, name)
    assert sink.url == (url or value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["ftp://x"], "the scheme must be"),
        (["syslog+tcp://siem"], "needs a host and a port"),
        (["https://user:pw@splunk/"], "no credentials in the URL"),
        (["https://splunk/#colour=red"], "unknown option 'colour'"),
        (["https://splunk/#format=xml"], "format must be jsonl or hec"),
        (["syslog+tls://siem:6514#ca=/nonexistent.pem"], "does not exist"),
        (["https://a/#name=x", "syslog+tcp://b:1#name=x"], "names the sink 'x' twice"),
    ],
)
def test_a_bad_sink_is_refused_with_the_reason(values, message):
    with pytest.raises(SinkConfigError, match=message):
        sinks_parse(values)


def test_a_bad_sink_fails_the_system_check_and_the_command(settings):
    settings.AUDIT_SINKS = ["ftp://siem"]

    with pytest.raises(CommandError, match="the scheme must be"):
        call_command("stream_audit")
    with pytest.raises(Exception, match="audit.E001"):
        call_command("check")
    assert not AuditSinkCursor.objects.exists()


def test_the_token_variable_is_named_after_the_sink():
    assert token_variable("splunk-prod.eu") == "AUDIT_SINK_SPLUNK_PROD_EU_TOKEN"


def test_stream_audit_reports_a_failing_sink_and_keeps_its_place(settings, capsys):
    event = audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM)
    settings.AUDIT_SINKS = ["http://127.0.0.1:9/ingest#name=down"]
    settings.AUDIT_SINK_TIMEOUT_SECONDS = 2

    with pytest.raises(CommandError, match="Delivery failed for: down"):
        call_command("stream_audit")

    cursor = AuditSinkCursor.objects.get(name="down")
    assert (cursor.last_event_id, cursor.failures) == (event.pk - 1, 1)


def test_integrity_page_shows_each_sinks_lag_and_last_error(client, auditor, settings):
    events = [audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM) for _ in "abc"]
    settings.AUDIT_SINKS = [
        "syslog+tcp://siem.example:514#name=siem",
        "https://new.example/ingest#name=new",
    ]
    AuditSinkCursor.objects.create(
        name="siem",
        kind=SinkKind.SYSLOG,
        target="syslog+tcp://siem.example:514",
        last_event_id=events[0].pk,
        last_delivered_at=timezone.now() - timedelta(minutes=5),
        failures=4,
        last_error="syslog siem.example:514: [Errno 111] Connection refused",
        last_failure_at=timezone.now(),
    )
    AuditSinkCursor.objects.create(name="old", kind=SinkKind.HTTP, target="https://old/")
    client.force_login(auditor)

    content = client.get("/audit/integrity/").content.decode()

    assert 'data-sink="siem"' in content and "Connection refused" in content
    assert f"#{events[0].pk}</a>" in content
    waiting = AuditEvent.objects.filter(id__gt=events[0].pk).count()  # and the sign-in's
    assert f'<td data-testid="sink-waiting">{waiting}</td>' in content
    assert '<td data-testid="sink-failures">4</td>' in content
    assert "(no longer configured)" in content  # the cursor "old"
    assert 'data-sink="new"' in content  # configured, not streamed to yet
    assert not AuditSinkCursor.objects.filter(name="new").exists()  # a page writes nothing


def test_integrity_page_with_its_sinks_is_refused_to_an_approver(client, approver):
    AuditSinkCursor.objects.create(name="siem", kind=SinkKind.SYSLOG)
    client.force_login(approver)

    response = client.get("/audit/integrity/")

    assert response.status_code == 403
    assert list(AuditSinkCursor.objects.values_list("name", "failures")) == [("siem", 0)]
