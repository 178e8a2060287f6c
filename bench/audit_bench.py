"""Audit log at scale: 10 million events in PostgreSQL.

Bulk-loads events with COPY (secondary indexes dropped during the load and rebuilt after),
then times, through the same selectors the pages use: the first page of the log, a page
deep in the log (keyset cursor at the 5-millionth event), typical filtered views, the
counts, and a streamed CSV export of one million rows (rows per second, peak memory).

The load is resumable: a database that already holds the rows is reused.
Usage: .venv/bin/python bench/audit_bench.py [--rows 10000000] [--reload]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = "agc_audit_bench"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from setup_django import configure, database_exists, database_recreate  # noqa: E402

ACTIONS = [
    ("crm.read_record", True),
    ("mail.draft", True),
    ("drive.read_file", True),
    ("ticket.comment", True),
    ("finance.read_ledger", True),
    ("crm.update_record", True),
    ("ticket.close", True),
    ("mail.send_external", False),
    ("drive.delete_file", False),
    ("finance.modify_record", False),
]
PROFILES = ["account-summary", "sales-followup", "support-triage", "finance-close", "doc-cleanup"]
RUNTIMES = [f"runtime:agent-{i}" for i in range(8)]
APPROVERS = [f"approver{i}@corp.example" for i in range(12)]
PEOPLE = [f"person{i}@corp.example" for i in range(3000)]
CONNECTORS = ["crm", "mail", "drive", "ticketing", "finance"]


def prepare(rows: int, reload: bool) -> None:
    exists = database_exists(DB)
    if exists and not reload:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM audit_auditevent")
            loaded = cursor.fetchone()[0] or 0
        if loaded >= rows:
            print(f"Reusing {DB}: {loaded:,} events already loaded.")
            return
    database_recreate(DB)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load(rows)


def event_rows(rows: int, seed: int = 1):
    """Realistic events over the last 90 days, in time order."""
    rng = random.Random(seed)
    end = datetime.now(UTC)
    start = end - timedelta(days=90)
    step = (end - start) / rows
    for i in range(rows):
        at = start + step * i
        action, reversible = ACTIONS[min(int(rng.paretovariate(1.2)) - 1, len(ACTIONS) - 1)]
        connector = action.split(".")[0].replace("ticket", "ticketing")
        roll = rng.random()
        if roll < 0.70:
            event_type, actor, outcome = (
                "decision_made",
                rng.choice(RUNTIMES),
                "allow" if reversible else "pending",
            )
            if rng.random() < 0.08:
                outcome = "deny"
        elif roll < 0.92:
            event_type, actor, outcome = "outcome_reported", rng.choice(RUNTIMES), "executed"
        elif roll < 0.97:
            event_type, outcome = "decision_approved", "approved"
            actor = f"user:{rng.choice(APPROVERS)}"
        else:
            event_type, outcome = "decision_rejected", "rejected"
            actor = f"user:{rng.choice(APPROVERS)}"
        approval = (
            "auto" if outcome in ("allow", "executed") and reversible
            else actor.replace("user:", "human:") if event_type == "decision_approved"
            else None
        )  # fmt: skip
        reason = "data_source_out_of_scope" if outcome == "deny" else "auto_execute_allowlisted"
        yield (
            at, actor, rng.choice(PEOPLE), action, approval,
            f'["{connector}:record/{rng.randint(1, 99999)}"]', "claude-sonnet-4-5",
            f"{connector}-plugin@1.{rng.randint(0, 3)}.0", reversible, event_type, outcome, reason,
            rng.choice(PROFILES), 3, 100, uuid.uuid4().hex, f"{i:064x}", "",
            "", "", "", "{}", "", f"{i:064x}", at,
        )  # fmt: skip


COLUMNS = (
    "timestamp, actor, on_behalf_of, action, approval, data_sources, model, plugin, reversible, "
    "event_type, outcome, reason, profile, profile_revision, policy_revision, request_id, "
    "params_digest, approved_params_digest, object_type, object_id, object_repr, detail, "
    "correlation_id, content_hash, recorded_at"
)


def load(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' "
            "AND indexname NOT LIKE '%%_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    started = time.monotonic()
    raw = connection.connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({COLUMNS}) FROM STDIN") as copy,
    ):
        for n, row in enumerate(event_rows(rows), 1):
            copy.write_row(row)
            if n % 1_000_000 == 0:
                print(
                    f"  loaded {n:,} events ({n / (time.monotonic() - started):,.0f}/s)", flush=True
                )
    raw.commit()
    print(
        f"Loaded {rows:,} events in {time.monotonic() - started:.0f} s; rebuilding indexes…",
        flush=True,
    )
    started = time.monotonic()
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE audit_auditevent")
    print(f"Rebuilt {len(indexes)} indexes in {time.monotonic() - started:.0f} s.", flush=True)


def timed(function, repeat: int = 5) -> float:
    """Median wall time in milliseconds (after one warm-up run)."""
    function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(rows: int) -> dict:
    from audit.filters import AuditEventFilterSet
    from audit.models import AuditEvent
    from audit.selectors import audit_event_count, audit_event_page

    def view(params: dict):
        return AuditEventFilterSet(params, queryset=AuditEvent.objects.all()).qs

    last_month = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    deep = AuditEvent.objects.order_by("-id").values_list("id", flat=True)[rows // 2]
    filters = {
        "approved sends of one approver, last 30 days": {
            "action": "mail.send_external",
            "approver": APPROVERS[3],
            "after": last_month,
        },
        "one person's events": {"on_behalf_of": PEOPLE[123]},
        "denials for data out of scope": {
            "outcome": ["deny"],
            "reason": "data_source_out_of_scope",
        },
        "one connector (data sources)": {"connector": "finance"},
    }
    results = {
        "first page (50 newest)": timed(lambda: audit_event_page(AuditEvent.objects.all())),
        f"deep page (cursor at event {deep:,})": timed(
            lambda: audit_event_page(AuditEvent.objects.all(), older_than=deep)
        ),
    }
    for label, params in filters.items():
        results[f"filtered: {label}"] = timed(lambda p=params: audit_event_page(view(p)))
    results["count, whole log (estimate)"] = timed(
        lambda: audit_event_count(AuditEvent.objects.all(), filtered=False)
    )
    results["count, filtered (capped at 10,000)"] = timed(
        lambda: audit_event_count(view(filters["one person's events"]), filtered=True)
    )
    return {"milliseconds": results, "export": measure_export(rows)}


def measure_export(rows: int, count: int = 1_000_000) -> dict:
    from audit.models import AuditEvent
    from audit.selectors import export_csv, export_rows

    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    queryset = AuditEvent.objects.filter(id__gt=newest - count)
    # Peak RSS of this process before and after: flat memory means no growth however
    # many rows (tracemalloc would slow the export several times, so it is not used).
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    exported = size = 0
    for chunk in export_csv(export_rows(queryset)):
        exported += 1
        size += len(chunk)
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": exported - 1,
        "seconds": round(elapsed, 1),
        "rows_per_second": round((exported - 1) / elapsed),
        "megabytes_of_csv": round(size / 1e6),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--reload", action="store_true", help="Drop and load the events again.")
    args = parser.parse_args()
    configure(DB)
    import django

    django.setup()
    prepare(args.rows, args.reload)
    results = measure(args.rows)
    print(f"\nAudit log with {args.rows:,} events (PostgreSQL), median of 5 runs:")
    for label, ms in results["milliseconds"].items():
        print(f"  {label:<55} {ms:9.1f} ms")
    export = results["export"]
    print(
        f"  export {export['rows']:,} rows as CSV: {export['seconds']} s, "
        f"{export['rows_per_second']:,} rows/s, {export['megabytes_of_csv']} MB; peak RSS "
        f"{export['peak_rss_mb']} MB, growth during the export {export['peak_rss_growth_mb']} MB"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    import json

    (RESULTS / "audit.json").write_text(json.dumps({"rows": args.rows, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
