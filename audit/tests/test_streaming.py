"""Streaming the audit log to SIEM sinks: a real rsyslog (started by the test, on a free
localhost port) and a real HTTP server. Every event arrives, in id order, exactly the
ones in the database; a sink that was down catches up in order."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from audit import streaming
from audit.choices import EventType
from audit.models import AuditEvent, AuditSinkCursor
from audit.seal_services import audit_seal_new_events
from audit.services import SYSTEM, audit_event_record
from audit.sinks import Sink, SinkError, sink_parse
from audit.streaming import audit_sink_deliver, deliverable_rows
from audit.tasks import stream_audit_events
from audit.tests.siem_servers import (
    CuttingProxy,
    HttpCollector,
    Rsyslog,
    require_rsyslog_tls,
    require_rsyslogd,
    self_signed_certificate,
)


def record_events(count: int, *, start: int = 0) -> list[int]:
    """`count` configuration events, numbered in their object_repr."""
    return [
        audit_event_record(
            event_type=EventType.CONFIG_UPDATED,
            actor=SYSTEM,
            object_type="governance.actiontype",
            object_id=str(start + n),
            object_repr=f"event {start + n}",
        ).pk
        for n in range(count)
    ]


def database_ids() -> list[int]:
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def received_ids(messages: list[dict]) -> list[int]:
    return [message["unmapped"]["audit"]["event_id"] for message in messages]


def deliver_until_caught_up(sink, *, runs: int = 20):
    """Run the stream as the beat task would, until the sink has every event."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    results = []
    for _ in range(runs):
        results.append(audit_sink_deliver(sink))
        if AuditSinkCursor.objects.get(name=sink.name).last_event_id == last:
            break
    return results


@pytest.fixture
def rsyslog(tmp_path):
    """Our own rsyslogd, stopped at the end of the test."""
    require_rsyslogd()
    daemon = Rsyslog(tmp_path)
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def syslog_sink(rsyslog):
    return sink_parse(f"syslog+tcp://127.0.0.1:{rsyslog.port}#name=siem", timeout=5)


@pytest.fixture
def small_batches(settings):
    settings.AUDIT_SINK_BATCH_SIZE = 7


@pytest.mark.django_db
def test_every_event_reaches_rsyslog_in_order_as_ocsf(rsyslog, syslog_sink, decide, make_pending):
    decide()
    decide(data_sources=["crm:contact/7"])
    make_pending("send")
    record_events(5)

    (result,) = streaming.audit_stream_deliver(sinks=[syslog_sink])

    ids = database_ids()
    messages = rsyslog.messages(expect=len(ids))
    assert received_ids(messages) == ids
    assert result.delivered == len(ids) and not result.error
    assert {m["class_uid"] for m in messages} == {6003}
    cursor = AuditSinkCursor.objects.get(name="siem")
    assert cursor.last_event_id == ids[-1]
    assert cursor.failures == 0 and cursor.last_delivered_at is not None


@pytest.mark.django_db
def test_rsyslog_restarted_mid_stream_gets_every_event_in_order(
    rsyslog, syslog_sink, small_batches
):
    """The sink goes down between two runs with events waiting: the failed run leaves the
    cursor; once rsyslog is back, the stream resumes where it stopped."""
    record_events(20)
    audit_sink_deliver(syslog_sink)
    record_events(15, start=20)
    rsyslog.stop()

    failed = audit_sink_deliver(syslog_sink)

    cursor = AuditSinkCursor.objects.get(name="siem")
    assert failed.delivered == 0 and "Connection refused" in failed.error
    assert cursor.failures == 1 and "Connection refused" in cursor.last_error
    assert cursor.last_event_id == database_ids()[19]

    rsyslog.start()
    record_events(10, start=35)
    deliver_until_caught_up(syslog_sink)

    ids = database_ids()
    assert received_ids(rsyslog.messages(expect=len(ids))) == ids
    cursor.refresh_from_db()
    assert cursor.failures == 0 and cursor.last_event_id == ids[-1]


class SlowSyslogSink(Sink):
    """A syslog sink a few milliseconds away: the stream of 1,500 events lasts longer
    than an rsyslog restart, so the restart lands in the middle of it."""

    def send(self, records):
        time.sleep(0.02)
        super().send(records)


@pytest.mark.django_db
def test_rsyslog_restarted_while_a_batch_is_on_the_wire_loses_nothing(rsyslog, settings):
    """rsyslog is restarted in the middle of a stream (between two batches, or with one on
    the wire: the timing decides): a batch it did not acknowledge is sent again whole, so
    every event arrives, in order, and nothing else; the only repeats are of a batch that
    was cut, recognisable by their event ids."""
    settings.AUDIT_SINK_BATCH_SIZE = 20
    record_events(1500)
    sink = SlowSyslogSink(**vars(sink_parse(f"syslog+tcp://127.0.0.1:{rsyslog.port}#name=siem")))
    restarted = threading.Event()

    def restart_when_some_arrived():
        rsyslog.messages(expect=300, timeout=30)
        rsyslog.restart()
        restarted.set()

    restarter = threading.Thread(target=restart_when_some_arrived)
    restarter.start()
    deliver_until_caught_up(sink, runs=500)
    restarted_before_the_end = restarted.is_set()
    restarter.join(timeout=30)

    assert restarted_before_the_end  # rsyslog went down and came back mid-stream
    ids = database_ids()
    received = received_ids(rsyslog.messages(expect=len(ids)))
    assert list(dict.fromkeys(received)) == ids  # every event, in order, nothing else
    _assert_repeats_only_resend_a_suffix(received)
    cursor = AuditSinkCursor.objects.get(name="siem")
    assert cursor.last_event_id == ids[-1] and cursor.failures == 0


@pytest.mark.django_db
def test_a_batch_cut_on_the_wire_is_sent_again_whole(rsyslog, small_batches):
    """The connection to rsyslog breaks in the middle of a batch: rsyslog keeps the
    messages it read, the sender sees a reset, and the next run sends the whole batch
    again. The repeats are exactly the cut batch's first events, with their ids."""
    ids = record_events(10)
    with CuttingProxy(rsyslog.port, cut_after=2500) as proxy:
        sink = sink_parse(f"syslog+tcp://127.0.0.1:{proxy.port}#name=siem", timeout=5)
        cut = audit_sink_deliver(sink)
        cursor = AuditSinkCursor.objects.get(name="siem")
        assert cut.delivered == 0 and cut.error and cursor.last_event_id == ids[0] - 1
        partial = received_ids(rsyslog.messages(expect=1))
        assert partial and partial == ids[: len(partial)]

        resent = audit_sink_deliver(sink)

    received = received_ids(rsyslog.messages(expect=len(partial) + 10))
    assert resent.delivered == 10 and not resent.error
    assert received == partial + ids  # the cut part, then everything in order, once
    assert list(dict.fromkeys(received)) == database_ids()


def _assert_repeats_only_resend_a_suffix(received: list[int]) -> None:
    """Where an id goes back, the stream resent from an earlier point it had reached:
    each run between two such points is increasing, and starts at or before where the
    previous one ended + 1."""
    highest = 0
    for previous, current in zip([0, *received], received, strict=False):
        if current <= previous:
            assert current <= highest
        highest = max(highest, current)


@pytest.mark.django_db
def test_a_new_sink_starts_at_the_oldest_event_and_a_second_run_sends_nothing(rsyslog, syslog_sink):
    record_events(3)
    audit_sink_deliver(syslog_sink)

    again = audit_sink_deliver(syslog_sink)

    assert again.delivered == 0
    assert received_ids(rsyslog.messages(expect=3)) == database_ids()


@pytest.mark.django_db
def test_sealed_events_carry_their_seal_so_the_copy_can_be_checked(rsyslog, syslog_sink):
    record_events(4)
    (seal,) = audit_seal_new_events(margin_seconds=0)
    record_events(2, start=4)

    audit_sink_deliver(syslog_sink)

    audit_fields = [m["unmapped"]["audit"] for m in rsyslog.messages(expect=6)]
    events = {e.pk: e for e in AuditEvent.objects.all()}
    assert [a["seal_id"] for a in audit_fields] == [seal.pk] * 4 + [None] * 2
    assert all(a["content_hash"] == events[a["event_id"]].content_hash for a in audit_fields)


@pytest.mark.django_db
def test_a_sink_holding_a_live_lease_is_left_to_its_worker(rsyslog, syslog_sink):
    record_events(2)
    AuditSinkCursor.objects.create(
        name="siem",
        kind="syslog",
        lease_token="other-worker",
        lease_until=timezone.now() + timedelta(seconds=60),
    )

    result = audit_sink_deliver(syslog_sink)

    assert result.skipped and result.delivered == 0
    assert rsyslog.messages(timeout=0.5) == []
    assert AuditSinkCursor.objects.get(name="siem").lease_token == "other-worker"


@pytest.fixture
def tls_rsyslog(tmp_path):
    """Our own rsyslogd taking syslog over TLS (its OpenSSL driver), with a certificate
    for 127.0.0.1 made for the test."""
    require_rsyslog_tls()
    certificate = self_signed_certificate(tmp_path)
    daemon = Rsyslog(tmp_path, tls=certificate)
    daemon.start()
    yield daemon, certificate
    daemon.stop()


@pytest.mark.django_db
def test_syslog_over_tls_reaches_rsyslog_in_order(tls_rsyslog, small_batches):
    daemon, certificate = tls_rsyslog
    record_events(10)
    sink = sink_parse(
        f"syslog+tls://127.0.0.1:{daemon.port}#name=siem&ca={certificate['cert']}", timeout=5
    )

    result = audit_sink_deliver(sink)

    assert result.delivered == 10 and not result.error
    assert received_ids(daemon.messages(expect=10)) == database_ids()


@pytest.mark.django_db
def test_syslog_over_tls_refuses_a_receiver_it_cannot_verify(tls_rsyslog, tmp_path):
    daemon, _ = tls_rsyslog
    record_events(1)
    (tmp_path / "other").mkdir()
    other_ca = self_signed_certificate(tmp_path / "other")
    sink = sink_parse(f"syslog+tls://127.0.0.1:{daemon.port}#name=siem&ca={other_ca['cert']}")

    with pytest.raises(SinkError, match="CERTIFICATE_VERIFY_FAILED"):
        sink.send([{"time": 0, "severity_id": 1}])
    result = audit_sink_deliver(sink)

    assert "CERTIFICATE_VERIFY_FAILED" in result.error
    assert daemon.messages(timeout=0.5) == []
    assert AuditSinkCursor.objects.get(name="siem").last_event_id == database_ids()[0] - 1


# ---------------------------------------------------------------------------
# HTTP


@pytest.mark.django_db
def test_http_sink_receives_json_lines_with_the_bearer_token(monkeypatch, small_batches):
    monkeypatch.setenv("AUDIT_SINK_PIPELINE_TOKEN", "s3cret-token")
    record_events(10)
    with HttpCollector() as collector:
        sink = sink_parse(f"{collector.url}#name=pipeline", timeout=5)
        result = audit_sink_deliver(sink)

    assert result.delivered == 10
    assert [len(r["body"].splitlines()) for r in collector.requests] == [7, 3]
    assert {r["headers"]["Authorization"] for r in collector.requests} == {"Bearer s3cret-token"}
    assert {r["headers"]["Content-Type"] for r in collector.requests} == {"application/x-ndjson"}
    lines = [line for r in collector.requests for line in r["body"].splitlines()]
    assert [json.loads(line)["metadata"]["uid"] for line in lines] == [
        str(i) for i in database_ids()
    ]


@pytest.mark.django_db
def test_http_sink_that_answers_503_keeps_its_place_and_catches_up(small_batches):
    record_events(10)
    with HttpCollector() as collector:
        sink = sink_parse(f"{collector.url}#name=pipeline", timeout=5)
        collector.fail_next(503)
        failed = audit_sink_deliver(sink)
        cursor = AuditSinkCursor.objects.get(name="pipeline")
        assert failed.delivered == 0 and "HTTP 503" in failed.error
        assert (cursor.last_event_id, cursor.failures) == (database_ids()[0] - 1, 1)
        assert collector.requests == []

        record_events(3, start=10)
        caught_up = audit_sink_deliver(sink)

    assert caught_up.delivered == 13
    lines = [line for r in collector.requests for line in r["body"].splitlines()]
    assert [json.loads(line)["unmapped"]["audit"]["event_id"] for line in lines] == database_ids()
    cursor.refresh_from_db()
    assert cursor.failures == 0 and cursor.last_error.startswith("HTTP 503")


@pytest.mark.django_db
def test_an_http_redirect_is_not_an_acknowledgement():
    ids = record_events(2)
    with HttpCollector() as collector:
        collector.fail_next(302)
        result = audit_sink_deliver(sink_parse(f"{collector.url}#name=pipeline", timeout=5))

    assert result.delivered == 0 and result.error.startswith("HTTP 302")
    assert AuditSinkCursor.objects.get(name="pipeline").last_event_id == ids[0] - 1


@pytest.mark.django_db
def test_http_sink_in_splunk_hec_format_wraps_each_event(monkeypatch):
    monkeypatch.setenv("AUDIT_SINK_SPLUNK_TOKEN", "hec-token")
    record_events(2)
    with HttpCollector() as collector:
        sink = sink_parse(f"{collector.url}#name=splunk&format=hec&auth=Splunk", timeout=5)
        audit_sink_deliver(sink)

    (request,) = collector.requests
    assert request["headers"]["Authorization"] == "Splunk hec-token"
    wrapped = [json.loads(line) for line in request["body"].splitlines()]
    assert {w["sourcetype"] for w in wrapped} == {"ocsf:api_activity"}
    assert [w["event"]["class_uid"] for w in wrapped] == [6003, 6003]


@pytest.mark.django_db
def test_a_sink_that_is_not_listening_records_the_failure():
    record_events(1)
    sink = sink_parse("http://127.0.0.1:9/ingest#name=nowhere", timeout=2)

    result = audit_sink_deliver(sink)

    cursor = AuditSinkCursor.objects.get(name="nowhere")
    assert result.error and cursor.failures == 1 and cursor.last_failure_at is not None
    assert cursor.last_event_id == database_ids()[0] - 1 and cursor.lease_token == ""


# ---------------------------------------------------------------------------
# Commit order on PostgreSQL


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_rolled_back_id_holds_the_stream_back_until_sealing_would_pass_it():
    """An id taken by a transaction that rolled back leaves a gap: the events after it
    wait for the sealing margin (the transaction might still commit), then go."""
    first = record_events(1)[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        record_events(1)
        raise RuntimeError("rolled back")
    after_gap = record_events(1)[0]
    assert after_gap > first + 1

    now = timezone.now()
    assert [r["id"] for r in deliverable_rows(first - 1, now=now)] == [first]
    later = now + timedelta(seconds=61)
    assert [r["id"] for r in deliverable_rows(first - 1, now=later)] == [first, after_gap]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_delivered_before_the_ids_after_it(tmp_path):
    """Transaction A takes id n and commits late; B takes n+1 and commits first. The
    stream sends nothing past n-1 until A commits, then n and n+1, in that order."""
    require_rsyslogd()
    daemon = Rsyslog(tmp_path)
    daemon.start()
    try:
        sink = sink_parse(f"syslog+tcp://127.0.0.1:{daemon.port}#name=siem", timeout=5)
        before = record_events(1)[0]
        audit_sink_deliver(sink)
        inserted, release = threading.Event(), threading.Event()

        def slow_transaction():
            try:
                with transaction.atomic():
                    record_events(1, start=100)
                    inserted.set()
                    release.wait(timeout=30)
            finally:
                connection.close()

        slow = threading.Thread(target=slow_transaction)
        slow.start()
        assert inserted.wait(timeout=10)
        quick = record_events(1, start=200)[0]  # committed at once (autocommit)

        held = audit_sink_deliver(sink)
        release.set()
        slow.join(timeout=10)
        resumed = audit_sink_deliver(sink)

        ids = database_ids()
        assert held.delivered == 0
        assert resumed.delivered == 2 and ids[-1] == quick
        assert received_ids(daemon.messages(expect=3)) == [before, *ids[1:]]
    finally:
        daemon.stop()


@pytest.mark.django_db
def test_stream_audit_command_sends_what_each_sink_lacks(settings, capsys):
    ids = record_events(3)
    with HttpCollector() as collector:
        settings.AUDIT_SINKS = [f"{collector.url}#name=pipeline"]
        call_command("stream_audit")
        call_command("stream_audit")

    out = capsys.readouterr().out
    assert f"pipeline: 3 event(s) delivered, up to event #{ids[-1]}." in out
    assert f"pipeline: 0 event(s) delivered, up to event #{ids[-1]}." in out
    assert len(collector.requests) == 1


@pytest.mark.django_db
def test_the_beat_task_streams_to_every_configured_sink(settings):
    record_events(2)
    with HttpCollector() as first, HttpCollector() as second:
        settings.AUDIT_SINKS = [f"{first.url}#name=first", f"{second.url}#name=second"]
        delivered = stream_audit_events()

    assert delivered == 4
    assert [len(c.requests) for c in (first, second)] == [1, 1]


@pytest.mark.django_db
def test_the_beat_task_does_nothing_without_sinks(settings, django_assert_num_queries):
    settings.AUDIT_SINKS = []
    with django_assert_num_queries(0):
        assert stream_audit_events() == 0
