"""Dashboards and the what-if simulator at scale: 10 million decisions in PostgreSQL.

Generates decisions with the demo's scenario mix (seed_demo's generators) over 90 days,
decides each kind of request once with the real engine, bulk-loads the rows (and the
approval requests of those that went to a person) with COPY, then prints:
the full rollup refresh time, the dashboard's server time (the whole page, 90-day window,
through the Django test client), one chart's JSON, and the simulator's replay speed.

Resumable: a database that already holds the rows is reused.
Usage: .venv/bin/python bench/insights_bench.py [--rows 10000000] [--reload]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB = "agc_insights_bench"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from setup_django import configure, database_exists, database_recreate  # noqa: E402


def prepare(rows: int, reload: bool) -> None:
    from django.core.management import call_command

    if database_exists(DB) and not reload:
        from governance.models import Decision

        count = Decision.objects.count()
        if count >= rows:
            print(f"Reusing {DB}: {count:,} decisions already loaded.")
            return
    database_recreate(DB)
    call_command("migrate", verbosity=0)
    tokens = Path("/tmp") / f"{DB}.tokens"
    call_command("seed_demo", days=0, quiet=True, token_file=str(tokens))
    load(rows)


DECISION_COLUMNS = (
    "id, runtime_id, request_id, request_fingerprint, on_behalf_of, profile_slug, action, "
    "connector, data_sources, plugin, model, params, params_digest, approved_params_digest, "
    "rationale, outcome, status, reason, message, impact, reversible, facts, policy_revision, "
    "approval, outcome_detail, created_at, resolved_at"
)
APPROVAL_COLUMNS = (
    "decision_id, group_id, approvals_needed, status, created_at, expires_at, sla_due_at, "
    "resolved_at"
)


def load(rows: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from governance import engine
    from governance.management.commands.seed_demo import Command
    from governance.models import AgentRuntime, User
    from governance.selectors import Person, people_by_key, policy_snapshot_build

    seed = Command()
    seed.rng = random.Random(11)
    runtimes = {r.name: r.pk for r in AgentRuntime.objects.all()}
    seed.runtimes = runtimes
    snapshot, _ = policy_snapshot_build()
    groups = dict(Group.objects.values_list("name", "pk"))
    # Everything the generator reads from the database is read before COPY starts: a query on
    # the connection while its COPY is open would wait for the COPY forever.
    people = people_by_key(User.objects.values_list("email_key", flat=True))
    memo: dict[tuple, engine.Verdict] = {}
    end = datetime.now(UTC)
    start = end - timedelta(days=90)
    step = (end - start) / rows
    started = time.monotonic()
    raw = connection.connection
    approvals = []
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY governance_decision ({DECISION_COLUMNS}) FROM STDIN") as copy,
    ):
        for n in range(rows):
            at = start + step * n
            p = seed.pick_scenario()
            email = f"{p.person}@corp.example"
            # Scenarios differ in record ids only past the system and resource kind.
            kinds = tuple(s.split("/")[0] for s in p.data_sources)
            key = (p.runtime, p.person, p.profile, p.action, p.connector, kinds, p.plugin)
            verdict = memo.get(key)
            if verdict is None:
                proposal = engine.Proposal(
                    runtime_id=runtimes[p.runtime],
                    on_behalf_of=email,
                    on_behalf_of_groups=people.get(email, Person(email)).groups,
                    on_behalf_of_user_id=people.get(email, Person(email)).user_id,
                    profile=p.profile,
                    action=p.action,
                    now=at,
                    connector=p.connector,
                    data_sources=tuple(p.data_sources),
                    plugin=p.plugin,
                )
                verdict = memo[key] = engine.decide(snapshot, proposal)
            status, approval, resolved = _resolution(seed.rng, verdict, p, at, end)
            decision_id = uuid.uuid4()
            copy.write_row(
                (decision_id, runtimes[p.runtime], f"bench-{n}", "0" * 64, email, p.profile,
                 p.action, p.connector or "", json.dumps(list(p.data_sources)), p.plugin or "",
                 "claude-sonnet-4-5", json.dumps(p.params or {}), "0" * 64, "", "",
                 verdict.outcome.value, status, verdict.reason.value, verdict.message,
                 verdict.impact or "", verdict.reversible, "{}", snapshot.revision, approval, "",
                 at, resolved)
            )  # fmt: skip
            if verdict.outcome is engine.Outcome.PENDING:
                ttl = timedelta(minutes=verdict.approval_ttl_minutes)
                approvals.append(
                    (decision_id, groups.get(verdict.approver_group), verdict.approvals_needed,
                     status, at, at + ttl, at + ttl / 2, resolved)
                )  # fmt: skip
            if (n + 1) % 1_000_000 == 0:
                rate = (n + 1) / (time.monotonic() - started)
                print(f"  generated {n + 1:,} decisions ({rate:,.0f}/s)", flush=True)
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY approvals_approvalrequest ({APPROVAL_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in approvals:
            copy.write_row(row)
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE governance_decision; ANALYZE approvals_approvalrequest")
    took = time.monotonic() - started
    print(f"Loaded {rows:,} decisions and {len(approvals):,} approvals in {took:.0f} s.")


def _resolution(rng, verdict, proposal, at, end):
    if verdict.outcome.value != "pending":
        return (
            ("allowed" if verdict.outcome.value == "allow" else "denied"),
            ("auto" if verdict.outcome.value == "allow" else ""),
            at,
        )
    verdicts, weights = zip(*proposal.verdicts, strict=True)
    choice = rng.choices(verdicts, weights=weights)[0]
    resolved = at + timedelta(minutes=rng.uniform(1, verdict.approval_ttl_minutes * 0.8))
    if resolved > end:
        return "pending", "", None
    if choice == "expire":
        return "expired", "", at + timedelta(minutes=verdict.approval_ttl_minutes)
    if choice == "reject":
        return "rejected", "", resolved
    return "approved", "human:alex@corp.example", resolved


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure() -> dict:
    from django.test import Client

    from audit.insights.rollups import rollups_refresh
    from audit.insights.simulator import change_parse, simulate
    from audit.insights.tuning import recommendations_refresh
    from governance.models import User

    results = {"rollup_refresh_full_s": timed(lambda: rollups_refresh(full=True))}
    # What the beat task does every 5 minutes: today's rows counted again.
    results["rollup_refresh_incremental_s"] = timed(rollups_refresh)
    # The rest of the beat task: the tuning recommendations from the rollups.
    results["recommendations_refresh_s"] = timed(recommendations_refresh)
    client = Client()
    client.force_login(User.objects.get(username="lee"))
    client.get("/audit/dashboard/?days=90")  # warm up
    results["dashboard_page_90_days_ms"] = (
        min(timed(lambda: client.get("/audit/dashboard/?days=90")) for _ in range(3)) * 1000
    )
    results["dashboard_page_7_days_ms"] = (
        min(timed(lambda: client.get("/audit/dashboard/?days=7")) for _ in range(3)) * 1000
    )
    results["one_chart_json_90_days_ms"] = (
        min(
            timed(lambda: client.get("/audit/dashboard/charts/over-time.json?days=90"))
            for _ in range(3)
        )
        * 1000
    )
    now = datetime.now(UTC)
    change = change_parse({"kind": "allowlist_add", "action": "crm.update_record"})
    for label, days, scoped, limit in REPLAYS:
        run = simulate(
            change, start=now - timedelta(days=days), end=now, scoped=scoped, limit=limit
        )
        results[label] = {
            "decisions": run.replayed,
            "seconds": round(run.seconds, 2),
            "per_second": round(run.per_second),
            "changed": run.changed_estimate,
            "in_scope": run.in_scope,
            "sampled": run.sampled,
        }
    return results


EXACT = 10**12
# (label, days, only the decisions the change can touch, sample above this many requests:
# None is the page's limit, TUNING_SIMULATION_MAX)
REPLAYS = [
    ("replay_one_day_every_decision", 1, False, EXACT),
    ("replay_one_day", 1, True, None),
    ("replay_seven_days", 7, True, None),
    ("replay_ninety_days_sampled", 90, True, None),
    ("replay_ninety_days_exact", 90, True, EXACT),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    configure(DB, ALLOWED_HOSTS="testserver")
    # The page is served without collectstatic; whitenoise's warning about it is noise here.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    prepare(args.rows, args.reload)
    results = measure()
    print(f"\nDashboards with {args.rows:,} decisions (PostgreSQL):")
    print(f"  full rollup refresh              {results['rollup_refresh_full_s']:8.1f} s")
    print(f"  incremental refresh (beat task)  {results['rollup_refresh_incremental_s']:8.1f} s")
    print(f"  tuning recommendations refresh   {results['recommendations_refresh_s']:8.1f} s")
    page = results["dashboard_page_90_days_ms"]
    print(f"  dashboard page, 90 days          {page:8.1f} ms (10 charts, server time)")
    print(f"  dashboard page, 7 days           {results['dashboard_page_7_days_ms']:8.1f} ms")
    print(f"  one chart as JSON, 90 days       {results['one_chart_json_90_days_ms']:8.1f} ms")
    print("  what-if: crm.update_record onto the allow-list")
    for label, _, _, _ in REPLAYS:
        r = results[label]
        print(
            f"    replay {label[7:].replace('_', ' '):27} {r['decisions']:>9,} decisions in "
            f"{r['seconds']:6.2f} s = {r['per_second']:>7,}/s "
            f"({'about ' if r['sampled'] else ''}{r['changed']:,} of {r['in_scope']:,} "
            "would change)"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "insights.json").write_text(
        json.dumps({"rows": args.rows, **results}, indent=2, default=str) + "\n"
    )


if __name__ == "__main__":
    main()
