"""The engine, proven by properties over generated snapshots and proposals (Hypothesis), and
a differential test against a naive second implementation of the README's rule table
(reference_engine.py). No database.

The universe is small on purpose (a few names of each kind), so that generated proposals
often name what generated snapshots contain and every rule gets exercised; the test
`test_the_generated_cases_reach_every_reason_code` checks that they do."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from governance.conditions import Condition, Effect, Mode
from governance.engine import (
    ActionTypePolicy,
    CatalogEntry,
    GrantPolicy,
    Outcome,
    PolicySnapshot,
    ProfilePolicy,
    Proposal,
    Reason,
    decide,
)
from governance.tests.reference_engine import reference_decide

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PROFILES = ("sales", "ops", "ghost")
ACTIONS = ("crm.read", "crm.write", "mail.send", "fin.pay")
ACTION_PATTERNS = ("crm.read", "crm.write", "crm.*", "mail.send", "fin.*", "*", "ticket.*")
CONNECTORS = ("crm", "mail", "erp")
PLUGINS = ("outreach", "notes")
VERSIONS = ("1.0", "2.0")
RESOURCES = ("account/1", "account/2", "deal/9")
RESOURCE_PATTERNS = ("account/*", "account/1", "deal/*", "*", "acc?unt/2")
GROUPS = ("Sales", "Ops")
CHECK_ONE = {
    "runtime_not_allowed_profile",
    "unknown_profile",
    "profile_inactive",
    "profile_expired",
    "launcher_not_allowed",
    "unknown_catalog_item",
    "catalog_item_not_approved",
    "plugin_not_in_profile",
    "plugin_version_missing",
    "version_yanked",
    "version_not_pinned",
    "action_not_in_profile",
    "data_source_out_of_scope",
    "write_not_granted",
}


class Boom(Exception):
    pass


@dataclass(frozen=True)
class FakeCondition:
    """A compiled condition with a fixed result: it holds, does not, or raises."""

    condition: Condition
    result: str  # match | no_match | error

    def evaluate(self, variables):
        assert set(variables) >= {"params", "action", "profile", "now"}
        if self.result == "error":
            raise {0: Boom, 1: ZeroDivisionError, 2: KeyError}[len(self.condition.name) % 3](
                "cannot evaluate"
            )
        return self.result == "match"


def subset(values):
    return st.frozensets(st.sampled_from(values))


def tuples(values, max_size=3):
    return st.lists(st.sampled_from(values), max_size=max_size, unique=True).map(tuple)


conditions = st.lists(
    st.builds(
        FakeCondition,
        condition=st.builds(
            Condition,
            name=st.sampled_from(("a", "bb", "ccc", "dddd")),
            when=st.just("true"),
            effect=st.sampled_from(list(Effect)),
            mode=st.sampled_from(list(Mode)),
            message=st.sampled_from(("", "Because.")),
        ),
        result=st.sampled_from(("match", "no_match", "error")),
    ),
    max_size=3,
).map(tuple)
# Half the generated policies carry no condition: the table's other rules need their turn.
maybe_conditions = st.one_of(st.just(()), conditions)

action_types = st.dictionaries(
    st.sampled_from(ACTIONS),
    st.builds(
        ActionTypePolicy,
        key=st.just(""),
        impact=st.sampled_from(("low", "medium", "high", "critical")),
        reversible=st.booleans(),
        auto_execute=st.booleans(),
        approver_group=st.sampled_from((None, "Approvers")),
        approvals_needed=st.integers(1, 3),
        approval_ttl_minutes=st.just(60),
        conditions=maybe_conditions,
    ),
).map(lambda found: {key: replace(action, key=key) for key, action in found.items()})

grants = st.lists(
    st.builds(
        GrantPolicy,
        connector=st.sampled_from(CONNECTORS),
        resources=tuples(RESOURCE_PATTERNS, 2),
        access=st.sampled_from(("read", "write")),
    ),
    max_size=4,
).map(tuple)

profile = st.builds(
    ProfilePolicy,
    slug=st.just(""),
    status=st.sampled_from(("active", "active", "active", "draft", "retired")),
    revision=st.just(1),
    expires_at=st.sampled_from(
        (None, None, NOW - timedelta(seconds=1), NOW, NOW + timedelta(seconds=1))
    ),
    launcher_users=subset((1, 2)),
    launcher_groups=subset(GROUPS),
    action_types=tuples(ACTION_PATTERNS),
    always_ask=st.one_of(st.just(()), tuples(ACTION_PATTERNS, 1)),
    plugins=subset(PLUGINS),
    grants=grants,
    conditions=maybe_conditions,
)
profiles = st.dictionaries(st.sampled_from(PROFILES[:2]), profile).map(
    lambda found: {slug: replace(p, slug=slug) for slug, p in found.items()}
)


@st.composite
def catalog(draw):
    entries = {}
    for slug in draw(tuples(CONNECTORS + PLUGINS, 5)):
        kind = "plugin" if slug in PLUGINS else "connector"
        entries[slug] = CatalogEntry(
            slug=slug,
            kind=draw(st.sampled_from((kind, kind, kind, "skill"))),
            status=draw(st.sampled_from(("approved", "approved", "proposed", "deprecated"))),
            pinned_version=draw(st.sampled_from((None, *VERSIONS))),
            yanked_versions=draw(subset(VERSIONS)),
        )
    return entries


snapshots = st.builds(
    PolicySnapshot,
    revision=st.just(7),
    action_types=action_types,
    profiles=profiles,
    catalog=catalog(),
    runtime_profiles=st.dictionaries(st.sampled_from((1, 2)), subset(PROFILES)),
    default_approver_group=st.just("Governance admins"),
    default_approval_ttl_minutes=st.just(45),
)

data_sources = st.lists(
    st.builds(
        lambda connector, resource: f"{connector}:{resource}",
        st.sampled_from(CONNECTORS),
        st.sampled_from(RESOURCES),
    ),
    max_size=3,
    unique=True,
).map(tuple)

proposals = st.builds(
    Proposal,
    runtime_id=st.sampled_from((1, 2)),
    on_behalf_of=st.just("sam@corp.example"),
    on_behalf_of_groups=subset(GROUPS),
    profile=st.sampled_from(PROFILES),
    action=st.sampled_from((*ACTIONS, "ticket.merge")),
    now=st.just(NOW),
    connector=st.sampled_from((None, None, *CONNECTORS)),
    data_sources=data_sources,
    plugin=st.sampled_from(
        (
            None,
            "outreach@1.0",
            "outreach@2.0",
            "outreach@3.0",
            "outreach",
            "notes@1.0",
            "crm@1.0",
            "ghost@1",
        )
    ),
    on_behalf_of_user_id=st.sampled_from((None, 1, 2)),
    params=st.just({"amount": 5}),
)


def favourable(snapshot: PolicySnapshot, proposal: Proposal, level: int):
    """Make many generated cases get past least privilege, so that the later rules, the
    oversight and the conditions see as many cases as the early denials do. Level 1: the
    runtime may use the profile, which exists, is active and unexpired, and the person is
    a launcher. Level 2: also every connector and plugin is in the catalog, approved.
    Level 3: also no plugin is named, and the profile allows every action and data source."""
    base = snapshot.profiles.get("sales") or DEFAULT_PROFILE
    base = replace(
        base, slug="sales", status="active", expires_at=None, launcher_groups=frozenset(GROUPS)
    )
    catalog = dict(snapshot.catalog)
    if level >= 2:
        for slug in CONNECTORS:
            catalog[slug] = CatalogEntry(slug, "connector", "approved", "1.0")
        catalog["outreach"] = CatalogEntry(
            "outreach", "plugin", "approved", "2.0", frozenset({"1.0"})
        )
        catalog["notes"] = CatalogEntry("notes", "plugin", "approved", "1.0")
    if level >= 3:
        everything = tuple(GrantPolicy(c, ("*",), "write") for c in CONNECTORS)
        base = replace(base, action_types=(*base.action_types, "*"), grants=everything)
        proposal = replace(proposal, plugin=None)
    return (
        replace(
            snapshot,
            profiles={**snapshot.profiles, "sales": base},
            catalog=catalog,
            runtime_profiles={**snapshot.runtime_profiles, 1: frozenset({"sales"})},
        ),
        replace(proposal, runtime_id=1, profile="sales", on_behalf_of_groups=frozenset({"Sales"})),
    )


DEFAULT_PROFILE = ProfilePolicy(
    slug="sales",
    status="active",
    revision=1,
    expires_at=None,
    launcher_users=frozenset(),
    launcher_groups=frozenset(GROUPS),
    action_types=("*",),
    always_ask=(),
    plugins=frozenset(PLUGINS),
    grants=(GrantPolicy("crm", ("*",), "write"),),
)


@st.composite
def cases(draw):
    snapshot, proposal = draw(snapshots), draw(proposals)
    level = draw(st.integers(0, 3))
    if level:
        snapshot, proposal = favourable(snapshot, proposal, level)
    return snapshot, proposal


# -- the differential test ---------------------------------------------------------------


def check_against_reference(snapshot, proposal):
    verdict = decide(snapshot, proposal)
    expected = reference_decide(snapshot, proposal)
    assert (verdict.outcome.value, verdict.reason.value) == expected, (snapshot, proposal)
    return verdict


def test_the_engine_agrees_with_the_naive_reference_on_generated_cases():
    """Thousands of generated cases; the generators must reach every reason code (a
    differential test over cases that never reach a rule proves nothing about it)."""
    seen = set()

    # Derandomized: the same 2,000 cases every run, so that the reach of every reason code
    # (asserted below) is stable; the properties further down explore anew on every run.
    @settings(
        max_examples=2000,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(cases())
    def agree(case):
        seen.add(check_against_reference(*case).reason.value)

    agree()
    assert {reason.value for reason in Reason} - seen == set()


# A disagreement the differential test finds is kept here as a regression example (none so
# far: the engine and the reference agreed from the first run; the expiry edge stays as one).
REGRESSIONS = [
    # Expiry at the very instant of the decision is expired (<=, not <).
    (
        dict(profile_expires_at=NOW),
        ("deny", "profile_expired"),
    ),
]


# -- properties --------------------------------------------------------------------------


def all_auto(snapshot):
    """The most permissive oversight imaginable: every action type low, reversible and
    allow-listed, no profile asks, and an auto_execute condition that holds everywhere."""
    yes = FakeCondition(Condition("yes", "true", Effect.AUTO_EXECUTE), "match")
    action_types = {
        key: replace(a, impact="low", reversible=True, auto_execute=True, conditions=(yes,))
        for key, a in snapshot.action_types.items()
    }
    profiles = {
        slug: replace(p, always_ask=(), conditions=(yes,)) for slug, p in snapshot.profiles.items()
    }
    return replace(snapshot, action_types=action_types, profiles=profiles)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_a_least_privilege_deny_never_becomes_allow_or_pending(case):
    snapshot, proposal = case
    verdict = decide(snapshot, proposal)
    assume(verdict.reason.value in CHECK_ONE)
    assert verdict.outcome is Outcome.DENY
    relaxed = decide(all_auto(snapshot), proposal)
    assert (relaxed.outcome, relaxed.reason) == (Outcome.DENY, verdict.reason)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_a_risky_action_is_never_allowed_without_a_person(case):
    snapshot, proposal = case
    verdict = decide(snapshot, proposal)
    action = snapshot.action_types.get(proposal.action)
    risky = action is None or action.impact in ("high", "critical") or not action.reversible
    if risky:
        assert verdict.outcome is not Outcome.ALLOW
    if verdict.outcome is Outcome.PENDING:
        assert verdict.approvals_needed >= 1
        assert verdict.approver_group
        if action is not None and action.impact == "critical":
            assert verdict.approvals_needed >= 2
    if verdict.outcome is Outcome.ALLOW:
        assert (verdict.impact, verdict.reversible) == (action.impact, True)
        assert verdict.impact in ("low", "medium")


@settings(max_examples=200, deadline=None)
@given(cases())
def test_a_condition_that_raises_never_allows(case):
    """Every condition made to raise: no verdict comes from an auto_execute condition, an
    allow is only ever the allow-list's own, and an enforced deny condition denies."""
    snapshot, proposal = case

    def broken(found):
        return tuple(replace(c, result="error") for c in found)

    snapshot = replace(
        snapshot,
        action_types={
            k: replace(a, conditions=broken(a.conditions)) for k, a in snapshot.action_types.items()
        },
        profiles={
            k: replace(p, conditions=broken(p.conditions)) for k, p in snapshot.profiles.items()
        },
    )
    verdict = decide(snapshot, proposal)
    assert verdict.reason is not Reason.CONDITION_AUTO_EXECUTE
    if verdict.outcome is Outcome.ALLOW:
        assert verdict.reason is Reason.AUTO_EXECUTE_ALLOWLISTED
    errored = [e for e in verdict.facts.get("conditions", []) if e["result"] == "error"]
    enforced_deny = [e for e in errored if e["effect"] == "deny" and e["mode"] == "enforce"]
    if enforced_deny:
        assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.CONDITION_ERROR)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_the_engine_never_lets_an_exception_become_an_allow(case):
    """A bug anywhere inside the evaluation (here: the snapshot's mappings fail on any
    read) ends in an exception for the caller, which the API answers as a deny, never in
    an allow returned by the engine."""
    snapshot, proposal = case

    class Exploding(dict):
        def get(self, *args):
            raise Boom("lookup failed")

        def __getitem__(self, key):
            raise Boom("lookup failed")

    for field in ("action_types", "catalog"):
        broken = replace(snapshot, **{field: Exploding(getattr(snapshot, field))})
        try:
            verdict = decide(broken, proposal)
        except Boom:
            continue
        assert (
            verdict.outcome is not Outcome.ALLOW
            or field == "catalog"
            and not (proposal.connector or proposal.data_sources or proposal.plugin)
        )


# -- the first failing check, in the documented order, gives the reason ----------------

BASE_SNAPSHOT = PolicySnapshot(
    revision=1,
    action_types={
        "crm.read": ActionTypePolicy("crm.read", "low", True, True, "Approvers", 1, 60),
    },
    profiles={
        "sales": ProfilePolicy(
            slug="sales",
            status="active",
            revision=1,
            expires_at=None,
            launcher_users=frozenset(),
            launcher_groups=frozenset({"Sales"}),
            action_types=("crm.read",),
            always_ask=(),
            plugins=frozenset({"outreach"}),
            grants=(GrantPolicy("crm", ("account/*",), "read"),),
        )
    },
    catalog={
        "crm": CatalogEntry("crm", "connector", "approved", "1.0"),
        "outreach": CatalogEntry("outreach", "plugin", "approved", "2.0", frozenset({"1.0"})),
        "tracker": CatalogEntry("tracker", "plugin", "approved", "1.0"),
    },
    runtime_profiles={1: frozenset({"sales"})},
    default_approver_group="Governance admins",
    default_approval_ttl_minutes=45,
)
BASE_PROPOSAL = Proposal(
    runtime_id=1,
    on_behalf_of="sam@corp.example",
    on_behalf_of_groups=frozenset({"Sales"}),
    profile="sales",
    action="crm.read",
    now=NOW,
    data_sources=("crm:account/1",),
    plugin="outreach@2.0",
)


def _profile(s, **changes):
    return replace(s, profiles={"sales": replace(s.profiles["sales"], **changes)})


def _catalog(s, slug, **changes):
    return replace(s, catalog={**s.catalog, slug: replace(s.catalog[slug], **changes)})


def _action(s, **changes):
    return replace(s, action_types={"crm.read": replace(s.action_types["crm.read"], **changes)})


def _condition(s, effect):
    found = (FakeCondition(Condition("c", "true", effect), "match"),)
    return _profile(s, conditions=s.profiles["sales"].conditions + found)


# Each family breaks one rule in a way that leaves the other families' rules alone; a
# family has alternatives that cannot be combined (one plugin, one data source list).
# (reason, snapshot change, proposal change), in the documented order.
BREAKAGES = [
    [("runtime_not_allowed_profile", None, dict(runtime_id=2))],
    [
        ("profile_inactive", lambda s: _profile(s, status="draft"), None),
        ("profile_expired", lambda s: _profile(s, expires_at=NOW), None),
    ],
    [("launcher_not_allowed", None, dict(on_behalf_of_groups=frozenset()))],
    [("catalog_item_not_approved", lambda s: _catalog(s, "crm", status="proposed"), None)],
    [
        ("unknown_catalog_item", None, dict(plugin="ghost@1.0")),
        ("catalog_item_not_approved", lambda s: _catalog(s, "outreach", status="retired"), None),
        ("plugin_not_in_profile", None, dict(plugin="tracker@1.0")),
        ("plugin_version_missing", None, dict(plugin="outreach")),
        ("version_yanked", None, dict(plugin="outreach@1.0")),
        ("version_not_pinned", None, dict(plugin="outreach@3.0")),
    ],
    [("action_not_in_profile", lambda s: _profile(s, action_types=("mail.*",)), None)],
    [
        ("data_source_out_of_scope", None, dict(data_sources=("crm:deal/1",))),
        ("write_not_granted", None, dict(connector="crm")),
    ],
    [("condition_denied", lambda s: _condition(s, Effect.DENY), None)],
    [("condition_requires_approval", lambda s: _condition(s, Effect.REQUIRE_APPROVAL), None)],
    [("profile_requires_approval", lambda s: _profile(s, always_ask=("crm.*",)), None)],
    [
        ("high_impact_or_irreversible", lambda s: _action(s, impact="high"), None),
        ("high_impact_or_irreversible", lambda s: _action(s, reversible=False), None),
    ],
    [("requires_human_approval", lambda s: _action(s, auto_execute=False), None)],
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(BREAKAGES) - 1), st.integers(0, 5)), max_size=6))
@example([])
def test_the_first_failing_check_in_the_documented_order_gives_the_reason(picked):
    snapshot, proposal = BASE_SNAPSHOT, BASE_PROPOSAL
    chosen = {}
    for family, alternative in picked:
        options = BREAKAGES[family]
        chosen.setdefault(family, options[alternative % len(options)])
    for family in sorted(chosen):
        _, change_snapshot, change_proposal = chosen[family]
        if change_snapshot:
            snapshot = change_snapshot(snapshot)
        if change_proposal:
            proposal = replace(proposal, **change_proposal)
    verdict = decide(snapshot, proposal)
    expected = chosen[min(chosen)][0] if chosen else "auto_execute_allowlisted"
    assert verdict.reason == expected, sorted(chosen)
    assert (verdict.outcome is Outcome.DENY) == (
        expected in CHECK_ONE or expected == "condition_denied"
    )


@pytest.mark.parametrize(("changes", "expected"), REGRESSIONS)
def test_regressions_found_by_the_differential_test(changes, expected):
    snapshot = _profile(BASE_SNAPSHOT, expires_at=changes["profile_expires_at"])
    assert check_against_reference(snapshot, BASE_PROPOSAL).outcome.value == expected[0]
    assert reference_decide(snapshot, BASE_PROPOSAL) == expected
