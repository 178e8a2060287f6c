"""Cost of conditions per decision: `governance.engine.decide` with 0, 3 and 10 conditions.

The engine is a pure function over a policy snapshot, so this is measured in-process, one
caller, with no database and no HTTP: what conditions add to the engine's own time (the
decision API spends most of its time elsewhere, see bench/run.py). The conditions are
compiled once, as the per-process snapshot does (never per request), and none of them
holds, so every one is evaluated on every decision (the worst case: a condition that holds
ends the evaluation early). The request is an allow-listed read with a realistic params
object (an amount, ten recipients, roles), which passes the least-privilege checks and so
reaches the conditions.

Figures only, nothing asserted. Usage: .venv/bin/python bench/conditions_bench.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.conditions import Condition, Effect, Mode, condition_compile  # noqa: E402
from governance.engine import (  # noqa: E402
    ActionTypePolicy,
    CatalogEntry,
    GrantPolicy,
    PolicySnapshot,
    ProfilePolicy,
    Proposal,
    decide,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

# Ten realistic conditions, none of which holds for the request below.
DENY, ASK, AUTO = Effect.DENY, Effect.REQUIRE_APPROVAL, Effect.AUTO_EXECUTE
ENFORCE, SHADOW = Mode.ENFORCE, Mode.SHADOW
CONDITIONS = [
    ("big-amount", "params.amount > 10000", DENY, ENFORCE),
    ("internal-only", "params.to.all(r, r.endsWith('@corp.example'))", AUTO, SHADOW),
    ("hr-data", "data_sources.exists(s, s.startsWith('hr:'))", ASK, ENFORCE),
    ("owner-role", "'owner' in params.roles", ASK, ENFORCE),
    ("night", "now.getHours('Europe/Paris') < 6", ASK, ENFORCE),
    ("other-model", "!model.startsWith('claude')", DENY, ENFORCE),
    ("legal-hold", "params.account_id in [7, 11, 13]", DENY, ENFORCE),
    ("outreach-plugin", "plugin.matches('^outreach@1')", DENY, SHADOW),
    ("contractor", "on_behalf_of.endsWith('@contractor.example')", DENY, ENFORCE),
    ("many-recipients", "size(params.to) > 50", ASK, ENFORCE),
]

PROFILE = ProfilePolicy(
    slug="sales",
    status="active",
    revision=3,
    expires_at=None,
    launcher_users=frozenset({7}),
    launcher_groups=frozenset({"Sales"}),
    action_types=("crm.read_record",),
    always_ask=(),
    plugins=frozenset({"outreach"}),
    grants=(GrantPolicy("crm", ("account/*",), "read"),),
)
READ = ActionTypePolicy("crm.read_record", "low", True, True, "Approvers", 1, 60)
PROPOSAL = Proposal(
    runtime_id=1,
    on_behalf_of="sam@corp.example",
    on_behalf_of_groups=frozenset({"Sales"}),
    on_behalf_of_user_id=7,
    profile="sales",
    action="crm.read_record",
    now=NOW,
    data_sources=("crm:account/42",),
    plugin="outreach@2.1.0",
    model="claude-sonnet-4-5",
    params={
        "account_id": 42,
        "amount": 250,
        "to": [f"person{i}@corp.example" for i in range(10)],
        "roles": ["viewer", "editor"],
    },
)


def snapshot(count: int) -> PolicySnapshot:
    compiled = tuple(
        condition_compile(Condition(name, when, effect, mode))
        for name, when, effect, mode in CONDITIONS[:count]
    )
    return PolicySnapshot(
        revision=1,
        action_types={"crm.read_record": replace(READ, conditions=compiled)},
        profiles={"sales": PROFILE},
        catalog={
            "crm": CatalogEntry("crm", "connector", "approved", "1.4.0"),
            "outreach": CatalogEntry("outreach", "plugin", "approved", "2.1.0"),
        },
        runtime_profiles={1: frozenset({"sales"})},
        default_approver_group="Governance admins",
        default_approval_ttl_minutes=60,
    )


def measure(policy: PolicySnapshot, calls: int, rounds: int = 5) -> tuple[float, float]:
    """Median and best of `rounds` rounds, in microseconds per decision."""
    for _ in range(500):  # warm up
        decide(policy, PROPOSAL)
    per_call = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            decide(policy, PROPOSAL)
        per_call.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(per_call), min(per_call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    verdict = decide(snapshot(10), PROPOSAL)
    assert verdict.outcome == "allow", verdict  # every condition evaluated, none held
    assert len(verdict.facts["conditions"]) == 10, verdict.facts
    started = time.perf_counter()
    snapshot(10)
    compile_ms = (time.perf_counter() - started) * 1e3
    print(f"engine.decide with conditions, {args.calls} decisions x 5 rounds, one caller")
    print(f"{'conditions':<12} {'µs/decision':>12} {'best':>8} {'per condition':>14} {'ratio':>7}")
    baseline = None
    for count in (0, 3, 10):
        median, best = measure(snapshot(count), args.calls)
        baseline = baseline or median
        each = f"{(median - baseline) / count:.1f} µs" if count else "-"
        print(f"{count:<12} {median:>12.1f} {best:>8.1f} {each:>14} {median / baseline:>6.2f}x")
    print(f"compiling the 10 conditions (once per policy snapshot): {compile_ms:.1f} ms")


if __name__ == "__main__":
    main()
