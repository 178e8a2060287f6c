"""The audit log pages and API: who reads, keyset pages, counts, exports, history."""

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from audit.choices import EventType
from audit.models import AuditEvent
from audit.selectors import EXPORT_FIELDS, audit_event_count, audit_event_page
from audit.services import SYSTEM, audit_event_record

pytestmark = pytest.mark.django_db

READERS = ["auditor", "governance_admin", "leader"]
OTHERS = ["approver", "connector_owner", "requester", "outsider"]


@pytest.mark.parametrize("persona", READERS)
def test_readers_open_the_log_and_export(client, request, log, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/audit/").status_code == 200
    assert client.get("/audit/export/?format=csv").status_code == 200


@pytest.mark.parametrize("persona", OTHERS)
def test_others_are_refused_the_log(client, request, log, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export/?format=csv").status_code == 403
    event = AuditEvent.objects.first()
    assert client.get(f"/audit/events/{event.pk}/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, log):
    assert client.get("/audit/").status_code == 302


def many(n: int) -> list[AuditEvent]:
    return [
        audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action=f"x.e{i}")
        for i in range(n)
    ]


def test_keyset_pages_walk_the_whole_log_newest_first(db):
    events = many(23)
    ids, page = [], audit_event_page(AuditEvent.objects.all(), size=10)
    while True:
        ids += [e.pk for e in page.events]
        if page.older_than is None:
            break
        page = audit_event_page(AuditEvent.objects.all(), older_than=page.older_than, size=10)
    assert ids == sorted((e.pk for e in events), reverse=True)
    back = audit_event_page(AuditEvent.objects.all(), newer_than=ids[9], size=10)
    assert [e.pk for e in back.events] == ids[:9]


def test_cursor_links_keep_the_filters(client, auditor, db):
    many(60)
    client.force_login(auditor)
    content = client.get("/audit/?event_type=config_updated").content.decode()
    assert "event_type=config_updated&amp;older_than=" in content


def test_count_is_exact_when_small_and_capped_when_large(db, monkeypatch):
    many(5)
    count = audit_event_count(AuditEvent.objects.all(), filtered=True)
    assert (count.value, count.exact, str(count)) == (5, True, "5")
    monkeypatch.setattr("audit.selectors.COUNT_CAP", 3)
    count = audit_event_count(AuditEvent.objects.all(), filtered=True)
    assert (count.value, count.exact, str(count)) == (3, False, "more than 3")


def test_csv_export_streams_the_filtered_view_with_the_record_fields_first(client, auditor, log):
    client.force_login(auditor)
    response = client.get("/audit/export/?format=csv&action=mail.send_external")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert tuple(rows[0][:9]) == AuditEvent.RECORD_FIELDS
    assert tuple(rows[0]) == EXPORT_FIELDS
    assert len(rows) - 1 == AuditEvent.objects.filter(action="mail.send_external").count()
    assert {row[3] for row in rows[1:]} == {"mail.send_external"}


def test_csv_cells_a_spreadsheet_would_run_are_shown_as_text(client, auditor, db):
    client.force_login(auditor)  # audited too: before the event, so that it is the newest
    formula = '=HYPERLINK("http://attacker.example","open")'
    audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action=formula)
    response = client.get("/audit/export/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][3] == "'" + formula
    response = client.get("/audit/export/?format=jsonl")
    record = json.loads(b"".join(response.streaming_content).decode().splitlines()[0])
    assert record["action"] == formula  # JSON Lines keeps the value exactly


def test_jsonl_export_is_one_record_per_line(client, auditor, log):
    client.force_login(auditor)
    response = client.get("/audit/export/?format=jsonl&approver=alex@corp.example")
    lines = b"".join(response.streaming_content).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert records and all(r["approval"] == "human:alex@corp.example" for r in records)
    assert list(records[0])[:9] == list(AuditEvent.RECORD_FIELDS)


def test_export_refuses_an_unknown_format(client, auditor, log):
    client.force_login(auditor)
    assert client.get("/audit/export/?format=xml").status_code == 400


def test_event_page_shows_the_decision_votes_and_digests(client, auditor, log):
    event = AuditEvent.objects.get(event_type="decision_approved")
    client.force_login(auditor)
    content = client.get(f"/audit/events/{event.pk}/").content.decode()
    assert "alex@corp.example" in content
    assert event.decision.params_digest in content
    assert "not sealed yet" in content


def test_history_shows_who_changed_what(client, governance_admin, policy):
    from governance.services import action_type_update

    action_type_update(policy.action_types.update, actor=governance_admin, auto_execute=True)
    client.force_login(governance_admin)
    url = f"/audit/history/governance.actiontype/{policy.action_types.update.pk}/"
    content = client.get(url).content.decode()
    assert "user:gina@corp.example" in content
    assert "<code>auto_execute</code>" in content
    assert "<del>no</del>" in content and "<ins>yes</ins>" in content
    assert client.get("/audit/history/governance.decision/1/").status_code == 404


def test_history_is_linked_from_the_object_pages(client, governance_admin, policy):
    client.force_login(governance_admin)
    content = client.get(f"/action-types/{policy.action_types.update.pk}/").content.decode()
    assert f"/audit/history/governance.actiontype/{policy.action_types.update.pk}/" in content


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_lists_events_with_a_cursor_and_filters(auditor, db):
    many(150)
    client = api(auditor)
    first = client.get("/api/v1/audit/events?event_type=config_updated").json()
    assert len(first["results"]) == 100
    assert first["results"][0]["id"] > first["results"][-1]["id"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 50
    assert list(first["results"][0])[:9] == list(AuditEvent.RECORD_FIELDS)


def test_api_refuses_invalid_filters(auditor, db):
    response = api(auditor).get("/api/v1/audit/events?reason=bogus")
    assert response.status_code == 400


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_api_export_streams(auditor, log, kind):
    response = api(auditor).get(f"/api/v1/audit/export?format={kind}&outcome=deny")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "data_source_out_of_scope" in body


def test_api_export_refuses_an_unknown_format_with_a_message(auditor, log):
    response = api(auditor).get("/api/v1/audit/export?format=xml")
    assert response.status_code == 400
    assert "csv" in json.dumps(response.json())


@pytest.mark.parametrize("persona", OTHERS)
def test_api_refuses_other_roles(request, log, persona):
    client = api(request.getfixturevalue(persona))
    assert client.get("/api/v1/audit/events").status_code == 403
    assert client.get("/api/v1/audit/export?format=csv").status_code == 403


def test_api_with_a_personal_token(auditor, log):
    from governance.services import user_token_create

    _, token = user_token_create(auditor, actor=auditor, name="siem")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/audit/events").status_code == 200


def test_the_log_page_query_count_is_flat(client, auditor, log, django_assert_max_num_queries):
    many(80)
    client.force_login(auditor)
    client.get("/audit/")
    with django_assert_max_num_queries(10):
        client.get("/audit/")
