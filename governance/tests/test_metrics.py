"""GET /metrics: who may read it, what it counts, and a real Prometheus scraping it."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from approvals.models import ApprovalRequest
from audit.models import AuditEvent, OutboxMessage
from audit.seal_services import audit_seal_new_events
from governance.metrics import DECISIONS
from governance.settings import _networks

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-test-token-0123456789"
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def metrics_token(settings):
    settings.METRICS = {"TOKEN": TOKEN, "ALLOWED_NETWORKS": []}
    return TOKEN


def scrape(client, token=TOKEN, **extra):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def samples(response) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of an exposition."""
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counted(outcome: str, reason: str) -> float:
    return DECISIONS.labels(outcome=outcome, reason=reason)._value.get()


# -- access -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_off_until_a_token_or_networks_are_set(client, settings):
    settings.METRICS = {"TOKEN": "", "ALLOWED_NETWORKS": []}
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS." in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic " + TOKEN, TOKEN])
def test_without_the_right_token_metrics_are_refused(client, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"agc_" not in response.content


@pytest.mark.django_db
def test_with_the_token_metrics_are_served_uncached(client, metrics_token):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    names = {name for name, _ in samples(response)}
    assert {"agc_metrics_database_up", "agc_audit_seal_lag_seconds"} <= names


@pytest.mark.django_db
def test_allowed_networks_read_without_a_token_others_do_not(client, settings):
    settings.METRICS = {"TOKEN": "", "ALLOWED_NETWORKS": ["10.1.0.0/16"]}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="10.2.0.1")
    assert refused.status_code == 403
    assert b"This address may not read the metrics." in refused.content


@pytest.mark.django_db
def test_with_both_an_outside_address_still_needs_the_token(client, settings):
    settings.METRICS = {"TOKEN": TOKEN, "ALLOWED_NETWORKS": ["127.0.0.1/32"]}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 401
    assert scrape(client, REMOTE_ADDR="192.0.2.1").status_code == 200


@pytest.mark.django_db
def test_metrics_answer_only_get(client, metrics_token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_a_mistyped_network_stops_the_console_at_start(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, 10.0.0.300")
    with pytest.raises(ImproperlyConfigured, match="'10.0.0.300' is not an address or network"):
        _networks("METRICS_ALLOWED_NETWORKS", "")
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, ::1")
    assert _networks("METRICS_ALLOWED_NETWORKS", "") == ["10.0.0.0/8", "::1"]


# -- what is counted --------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_recorded_decision_is_counted_by_outcome_and_reason_replays_are_not(
    client, metrics_token, decide
):
    allowed = counted("allow", "auto_execute_allowlisted")
    denied = counted("deny", "data_source_out_of_scope")
    first = decide(request_id="metrics-1")
    assert first.status_code == 201 and first.json()["reason"] == "auto_execute_allowlisted"
    assert decide(request_id="metrics-1").status_code == 200  # a replay
    out_of_scope = decide(data_sources=["crm:contract/1"])
    assert out_of_scope.json()["reason"] == "data_source_out_of_scope"

    figures = samples(scrape(client))
    allow_key = (
        "agc_decisions_total",
        (("outcome", "allow"), ("reason", "auto_execute_allowlisted")),
    )
    deny_key = (
        "agc_decisions_total",
        (("outcome", "deny"), ("reason", "data_source_out_of_scope")),
    )
    assert figures[allow_key] == allowed + 1
    assert figures[deny_key] == denied + 1


@pytest.mark.django_db
def test_the_decision_api_latency_is_observed_by_status(client, metrics_token, decide):
    def count(status):
        key = ("agc_decision_api_seconds_count", (("status", status),))
        return samples(scrape(client)).get(key, 0)

    decided, refused = count("201"), count("400")
    decide()
    decide(on_behalf_of="not an address")
    assert count("201") == decided + 1
    assert count("400") == refused + 1


@pytest.mark.django_db
def test_pending_approvals_by_group_and_age_and_past_their_sla(client, metrics_token, make_pending):
    with time_machine.travel(NOW - timedelta(hours=30), tick=False):
        old = make_pending("send")
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        make_pending("send")
    with time_machine.travel(NOW - timedelta(minutes=5), tick=False):
        make_pending("send")
        make_pending("critical")
    ApprovalRequest.objects.filter(pk=old.pk).update(sla_due_at=NOW - timedelta(hours=1))

    with time_machine.travel(NOW, tick=False):
        figures = samples(scrape(client))

    def pending(group, age):
        return figures[("agc_approvals_pending", (("age", age), ("group", group)))]

    assert pending("Approvers", "under_1h") == 1
    assert pending("Approvers", "1h_to_4h") == 1
    assert pending("Approvers", "4h_to_24h") == 0
    assert pending("Approvers", "over_24h") == 1
    assert pending("Finance approvers", "under_1h") == 1
    assert figures[("agc_approvals_past_sla", (("group", "Approvers"),))] == 1
    assert figures[("agc_approvals_past_sla", (("group", "Finance approvers"),))] == 0


@pytest.mark.django_db
def test_seal_lag_is_the_age_of_the_oldest_unsealed_event(client, metrics_token, decide):
    with time_machine.travel(NOW - timedelta(minutes=10), tick=False):
        decide()
    with time_machine.travel(NOW, tick=False):
        lag = samples(scrape(client))[("agc_audit_seal_lag_seconds", ())]
    oldest = AuditEvent.objects.order_by("id").first().recorded_at
    assert lag == pytest.approx((NOW - oldest).total_seconds())
    assert lag >= 600

    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        audit_seal_new_events()
        figures = samples(scrape(client))
    assert figures[("agc_audit_seal_lag_seconds", ())] == 0
    assert figures[("agc_audit_last_seal_timestamp_seconds", ())] > 0


@pytest.mark.django_db
def test_outbox_depth_and_failures_by_topic(client, metrics_token, make_pending):
    with time_machine.travel(NOW - timedelta(minutes=3), tick=False):
        make_pending("send")
        make_pending("send")
    OutboxMessage.objects.filter(pk=OutboxMessage.objects.order_by("id").first().pk).update(
        failed_at=NOW, last_error="SMTP refused"
    )
    with time_machine.travel(NOW, tick=False):
        figures = samples(scrape(client))
    assert figures[("agc_outbox_depth", (("topic", "approval.notify"),))] == 1
    assert figures[("agc_outbox_oldest_age_seconds", (("topic", "approval.notify"),))] == 180
    assert figures[("agc_outbox_failed", (("topic", "approval.notify"),))] == 1


# -- several gunicorn workers -----------------------------------------------------------------

COUNT_ONE = """
from governance.metrics import decision_counted
decision_counted("allow", "auto_execute_allowlisted")
"""


def test_counts_of_several_worker_processes_add_up(tmp_path):
    """In multiprocess mode each worker writes its counts to the shared directory and a
    scrape, from any worker, adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):
        subprocess.run([sys.executable, "-c", COUNT_ONE], cwd=ROOT, env=env, check=True)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    value = registry.get_sample_value(
        "agc_decisions_total", {"outcome": "allow", "reason": "auto_execute_allowlisted"}
    )
    assert value == 3


def test_gunicorn_clears_the_previous_runs_counts_at_start(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf.on_starting(server=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


# -- a real Prometheus ------------------------------------------------------------------------

PROMETHEUS = shutil.which("prometheus")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (localhost)
        return json.loads(answer.read())


@pytest.fixture
def prometheus(live_server, tmp_path, settings):
    """Debian's Prometheus, scraping the live server's /metrics every second with a token."""
    if PROMETHEUS is None:
        if os.environ.get("AGC_REQUIRE_PROMETHEUS"):
            pytest.fail("prometheus is not installed (apt-get install prometheus)")
        pytest.skip("prometheus is not installed (Debian package prometheus)")
    settings.METRICS = {"TOKEN": TOKEN, "ALLOWED_NETWORKS": []}
    target = urllib.parse.urlparse(live_server.url).netloc
    (tmp_path / "token").write_text(TOKEN)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: console\n"
        "    metrics_path: /metrics\n"
        f"    authorization: {{credentials_file: {tmp_path / 'token'}}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    log = (tmp_path / "prometheus.log").read_text()[-2000:]
                    pytest.fail(f"Prometheus did not start:\n{log}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _query(url: str, promql: str) -> float | None:
    answer = _get_json(f"{url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


@pytest.mark.django_db(transaction=True)
def test_a_real_prometheus_scrapes_the_decisions_this_test_made(prometheus, decide, make_pending):
    before = counted("allow", "auto_execute_allowlisted")
    for _ in range(3):
        assert decide().json()["outcome"] == "allow"
    make_pending("send")

    promql = 'sum(agc_decisions_total{outcome="allow", reason="auto_execute_allowlisted"})'
    deadline = time.monotonic() + 30
    while (value := _query(prometheus, promql)) != before + 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert value == before + 3
    assert _query(prometheus, 'sum(agc_approvals_pending{group="Approvers"})') == 1
    assert _query(prometheus, 'up{job="console"}') == 1


@pytest.mark.django_db
def test_each_configured_siem_sink_reports_its_backlog_and_lag(
    client, metrics_token, settings, decide
):
    settings.AUDIT_SINKS = ["syslog+tcp://127.0.0.1:9#name=siem"]
    with time_machine.travel(NOW - timedelta(minutes=2), tick=False):
        decide()
        decide()
    with time_machine.travel(NOW, tick=False):
        figures = samples(scrape(client))
    waiting = AuditEvent.objects.count()
    assert figures[("agc_audit_sink_waiting_events", (("sink", "siem"),))] == waiting
    assert figures[("agc_audit_sink_lag_seconds", (("sink", "siem"),))] >= 120
    assert figures[("agc_audit_sink_failures", (("sink", "siem"),))] == 0
