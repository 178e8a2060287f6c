"""Reads of the catalog."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from catalog.choices import ItemKind
from catalog.models import CatalogItem, CatalogVersion, IntakeRequest
from catalog.permissions import may_review, reviews_intake
from governance.engine import Proposal, Reason, decide
from governance.models import Decision, PermissionProfile
from governance.periods import last_days_since
from governance.permissions import is_auditor, is_governance_admin
from governance.selectors import Person, people_by_key, policy_snapshot_build

STATS_DAYS = 30


def catalog_item_list() -> QuerySet[CatalogItem]:
    return CatalogItem.objects.select_related("owner", "owning_group").prefetch_related("versions")


@dataclass(frozen=True)
class DecisionStats:
    allowed: int
    denied: int
    pending: int
    approved: int
    rejected: int
    days: int = STATS_DAYS


def _decisions_using(item: CatalogItem) -> Q:
    if item.kind == ItemKind.CONNECTOR:
        # The connector the action changes, or the connector of one of its data sources.
        return Q(connector=item.slug) | Q(data_sources__icontains=f'"{item.slug}:')
    return Q(plugin__startswith=f"{item.slug}@")


def catalog_item_stats(item: CatalogItem) -> DecisionStats:
    """How the decisions that used this item went in the last 30 days, as Home and the
    dashboards count them (governance.periods; one query)."""
    since = last_days_since(STATS_DAYS)
    row = Decision.objects.filter(_decisions_using(item), created_at__gte=since).aggregate(
        allowed=Count("pk", filter=Q(outcome="allow")),
        denied=Count("pk", filter=Q(outcome="deny")),
        pending=Count("pk", filter=Q(outcome="pending")),
        approved=Count("pk", filter=Q(outcome="pending", approval__startswith="human:")),
        rejected=Count("pk", filter=Q(status="rejected")),
    )
    return DecisionStats(**row)


def profiles_using(item: CatalogItem) -> QuerySet[PermissionProfile]:
    """Profiles that allow the plugin or grant access through the connector."""
    return (
        PermissionProfile.objects.filter(Q(plugins=item) | Q(grants__connector=item))
        .distinct()
        .order_by("slug")
    )


def intake_request_list_visible_to(user) -> QuerySet[IntakeRequest]:
    """Requests a person may see: their own, those they review, all for admins/auditors."""
    base = IntakeRequest.objects.select_related("item", "requester")
    if is_governance_admin(user) or is_auditor(user):
        return base
    visible = [r.pk for r in base if r.requester_id == user.pk or may_review(user, r)]
    return base.filter(pk__in=visible)


def intake_review_queue(user) -> QuerySet[IntakeRequest]:
    """Open requests waiting for this person's review, oldest first."""
    from catalog.choices import IntakeState

    candidates = (
        IntakeRequest.objects.select_related("item", "requester")
        .filter(state__in=[IntakeState.SUBMITTED, IntakeState.IN_REVIEW])
        .exclude(requester=user)
        .order_by("state_changed_at")
    )
    waiting = [r.pk for r in candidates if may_review(user, r) and _review_left_for(user, r)]
    return candidates.filter(pk__in=waiting)


@dataclass(frozen=True)
class IntakeWork:
    """What intake requests wait for from one person (their home page)."""

    reviews: list[tuple[IntakeRequest, list[str]]]  # with the review kinds left for them
    to_publish: list[IntakeRequest]

    def __len__(self) -> int:
        return len(self.reviews) + len(self.to_publish)


def intake_work_for(user) -> IntakeWork:
    """The requests waiting for this person's review (oldest first, with the reviews they
    may give), and the approved ones waiting for them to publish."""
    from catalog.choices import IntakeState
    from catalog.permissions import can_publish_intake, review_refusal

    reviews = [
        (r, [k for k in ("security", "data") if review_refusal(user, r, k) is None])
        for r in intake_review_queue(user)
    ]
    approved = (
        IntakeRequest.objects.select_related("item", "requester")
        .filter(state=IntakeState.APPROVED)
        .order_by("state_changed_at")
    )
    return IntakeWork(reviews, [r for r in approved if can_publish_intake(user, r)])


def _review_left_for(user, intake: IntakeRequest) -> bool:
    from catalog.permissions import review_refusal

    return any(review_refusal(user, intake, kind) is None for kind in ("security", "data"))


def intake_reviewer_emails(intake: IntakeRequest) -> list[str]:
    """Who to tell about a request in the review queue."""
    from django.conf import settings

    from governance.models import User

    group = settings.GOVERNANCE["SECURITY_REVIEW_GROUP"]
    people = User.objects.filter(is_active=True).exclude(email="").exclude(pk=intake.requester_id)
    candidates = people.filter(
        Q(groups__name=group) | Q(groups__name="Governance admins") | Q(is_superuser=True)
    )
    if intake.item_id:
        item = intake.item
        candidates = candidates | people.filter(pk=item.owner_id)
        if item.owning_group_id:
            candidates = candidates | people.filter(groups=item.owning_group_id)
    return sorted(
        {
            u.email
            for u in candidates.distinct()
            if reviews_intake(u, intake) or may_review(u, intake)
        }
    )


def _previous_definitions(intake) -> tuple[Any, list[dict] | None]:
    """The version the new tools are compared with: the item's pinned version, else its
    latest version that recorded tool definitions (None for a new item)."""
    if intake.item_id is None:
        return None, None
    versions = intake.item.versions.exclude(tool_definitions=None)
    previous = versions.filter(is_pinned=True).first() or versions.order_by("-created_at").first()
    return previous, (previous.tool_definitions if previous else None)


def intake_tool_changes(intake) -> dict[str, Any]:
    """Every tool the server exposes, with what changed since the previous version
    (added, removed, changed: the description as a line diff, schema, annotations)."""
    previous, before = _previous_definitions(intake)
    after = {t["name"]: t for t in intake.tool_definitions or []}
    old = {t["name"]: t for t in before or []}
    rows = []
    for name in sorted(set(after) | set(old)):
        new, was = after.get(name), old.get(name)
        state = "added" if was is None and before is not None else "removed" if new is None else ""
        if new and was and new != was:
            state = "changed"
        rows.append(
            {
                "name": name,
                "tool": new or was,
                "state": state,
                "description_diff": _lines_diff(was, new) if state == "changed" else [],
                "schema_changed": bool(
                    new and was and new.get("inputSchema") != was.get("inputSchema")
                ),
                "annotations_before": (was or {}).get("annotations")
                if state == "changed"
                else None,
            }
        )
    return {"previous": previous, "compared": before is not None, "rows": rows}


def _lines_diff(was: dict, new: dict) -> list[str]:
    import difflib

    return list(
        difflib.unified_diff(
            (was.get("description") or "").splitlines(),
            (new.get("description") or "").splitlines(),
            "reviewed",
            "proposed",
            lineterm="",
            n=1,
        )
    )[2:]


# -- the blast radius of a pin ------------------------------------------------------------

BLAST_RADIUS_DAYS = 30
BLAST_RADIUS_MAX = 20_000  # requests replayed at most (the newest)


@dataclass
class BlastRow:
    """The decisions of one runtime and profile that named the version pinned now."""

    runtime: str
    profile: str
    total: int = 0
    outcomes: Counter = field(default_factory=Counter)  # as the policy in force decides
    refused: int = 0  # refused with version_not_pinned once the new version is pinned
    reasons: Counter = field(default_factory=Counter)  # why the others keep their outcome

    @property
    def unchanged(self) -> int:
        return self.total - self.refused

    # Lists for templates (a Counter looks attributes up as keys there).
    @property
    def outcome_counts(self) -> list[tuple[str, int]]:
        return self.outcomes.most_common()

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        return self.reasons.most_common()


@dataclass
class BlastRadius:
    """What pinning `new` does to the last days' decisions that named the pinned version:
    each replayed through the engine under the policy in force, then with `new` pinned."""

    item: CatalogItem
    new: CatalogVersion
    current: CatalogVersion | None
    since: datetime
    days: int = BLAST_RADIUS_DAYS
    rows: list[BlastRow] = field(default_factory=list)
    in_window: int = 0  # decisions in the window that named the current version
    truncated: bool = False

    @property
    def applies(self) -> bool:
        """Decisions name a version only for plugins; a window needs a version to keep."""
        return (
            self.item.kind == ItemKind.PLUGIN
            and self.current is not None
            and self.current.pk != self.new.pk
        )

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)

    @property
    def refused(self) -> int:
        return sum(row.refused for row in self.rows)

    @property
    def unchanged(self) -> int:
        return self.total - self.refused

    @property
    def allowed(self) -> int:
        return sum(row.outcomes["allow"] for row in self.rows)

    @property
    def pending(self) -> int:
        return sum(row.outcomes["pending"] for row in self.rows)


def catalog_pin_blast_radius(item: CatalogItem, new: CatalogVersion) -> BlastRadius:
    """The blast radius of pinning `new`: the decisions of the last 30 days that named the
    version pinned now, by runtime and profile, and how many would be refused with
    `version_not_pinned` (replayed through the real engine, as of their own time)."""
    current = item.versions.filter(is_pinned=True).first() if item.pk else None
    radius = BlastRadius(item, new, current, since=last_days_since(BLAST_RADIUS_DAYS))
    if not radius.applies:
        return radius
    decisions = Decision.objects.filter(
        plugin=f"{item.slug}@{current.version}", created_at__gte=radius.since
    )
    radius.in_window = decisions.count()
    radius.truncated = radius.in_window > BLAST_RADIUS_MAX
    snapshot, _ = policy_snapshot_build()
    pinned = _snapshot_pinning(snapshot, item.slug, new.version, current.version)
    rows: dict[tuple[str, str], BlastRow] = {}
    newest = decisions.order_by("-created_at")[:BLAST_RADIUS_MAX]
    for runtime, profile, proposal in replay_proposals(
        newest, with_params=_has_conditions(snapshot)
    ):
        row = rows.setdefault((runtime, profile), BlastRow(runtime, profile))
        before, after = decide(snapshot, proposal), decide(pinned, proposal)
        row.total += 1
        row.outcomes[before.outcome.value] += 1
        if after.reason == Reason.VERSION_NOT_PINNED != before.reason:
            row.refused += 1
        else:
            row.reasons[after.reason.value] += 1
    radius.rows = sorted(rows.values(), key=lambda r: (-r.total, r.runtime, r.profile))
    return radius


def _snapshot_pinning(snapshot, slug: str, version: str, previous: str):
    """The snapshot with `version` pinned and `previous` refused (no window)."""
    from dataclasses import replace
    from types import MappingProxyType

    entry = snapshot.catalog[slug]
    grace = {v: until for v, until in entry.grace_versions.items() if v not in (version, previous)}
    catalog = dict(snapshot.catalog)
    catalog[slug] = replace(entry, pinned_version=version, grace_versions=MappingProxyType(grace))
    return replace(snapshot, catalog=MappingProxyType(catalog))


def replay_proposals(decisions, *, with_params: bool):
    """(runtime name, profile, Proposal) for each recorded decision, as it was requested,
    with the person's groups as they are now (two queries). Params and model, the bulk of
    a row, are read only when a condition could read them."""
    columns = ["runtime__name", "runtime_id", "on_behalf_of", "profile_slug", "action"]
    columns += ["connector", "data_sources", "plugin", "created_at"]
    rows = list(decisions.values_list(*columns, *(["params", "model"] if with_params else [])))
    people = people_by_key({row[2] for row in rows})
    for row in rows:
        name, runtime_id, person, profile, action, connector, sources, plugin, at = row[:9]
        known = people.get(person) or Person(person)
        yield (
            name,
            profile,
            Proposal(
                runtime_id=runtime_id,
                on_behalf_of=person,
                on_behalf_of_groups=known.groups,
                on_behalf_of_user_id=known.user_id,
                profile=profile,
                action=action,
                now=at,
                connector=connector or None,
                data_sources=tuple(sources),
                plugin=plugin or None,
                params=row[9] if with_params else {},
                model=row[10] if with_params else "",
            ),
        )


def _has_conditions(snapshot) -> bool:
    return any(a.conditions for a in snapshot.action_types.values()) or any(
        p.conditions for p in snapshot.profiles.values()
    )


def intake_publish_blast_radius(intake: IntakeRequest) -> BlastRadius:
    """The blast radius of publishing and pinning an intake request's version (nothing for
    a new item: no decision can have named it)."""
    item = intake.item or CatalogItem(slug=intake.slug, kind=intake.item_kind, name=intake.name)
    return catalog_pin_blast_radius(item, CatalogVersion(item=item, version=intake.version))


# -- what next on an intake request ---------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """The next step on an intake request for the person looking at it."""

    text: str
    link_label: str = ""
    link_url: str = ""


def intake_next_step(user, intake: IntakeRequest) -> NextStep:
    """What happens next to this request, said for this person: a review to give, a
    request to resubmit or to publish, or whom it waits for."""
    from catalog.choices import IntakeState as S

    is_requester = intake.requester_id == user.pk
    if intake.state in (S.SUBMITTED, S.IN_REVIEW):
        return _next_in_review(user, intake, is_requester)
    if intake.state == S.CHANGES_REQUESTED:
        if is_requester:
            return NextStep(
                "The reviewers asked for changes (the note above says which): change the "
                "request and resubmit it; a new review round starts.",
            )
        return NextStep(f"Waiting for {intake.requester.email} to change and resubmit it.")
    if intake.state == S.APPROVED:
        return _next_approved(user, intake)
    if intake.state == S.PUBLISHED:
        version = intake.published_version
        pinned = " and pinned" if version and version.is_pinned else ", not pinned"
        return NextStep(
            f"Published as {version}{pinned}.{_window_note(intake)} Nothing more to do here.",
            "Open the item",
            intake.item.get_absolute_url() if intake.item_id else "",
        )
    if intake.state == S.REJECTED:
        return NextStep(
            "Rejected: nothing more to do. File a new request if the reasons no longer hold.",
        )
    return NextStep("Withdrawn by the requester: nothing more to do.")


def _window_note(intake: IntakeRequest) -> str:
    if not intake.item_id:
        return ""
    from django.utils import timezone

    windows = [v for v in intake.item.versions.exclude(allowed_until=None) if v.in_rollout_window()]
    return "".join(
        f" {v.version} stays allowed until "
        f"{timezone.localtime(v.allowed_until):%Y-%m-%d %H:%M} (a rollout window)."
        for v in windows
    )


def _next_in_review(user, intake: IntakeRequest, is_requester: bool) -> NextStep:
    from catalog.permissions import review_refusal

    done = {r.kind: r for r in intake.current_reviews().select_related("reviewer")}
    missing = [k for k in ("security", "data") if k not in done]
    waiting = " and the ".join(f"{k} review" for k in missing)
    mine_left = [k for k in missing if review_refusal(user, intake, k) is None]
    if mine_left:
        kinds = " or the ".join(f"{k} review" for k in mine_left)
        return NextStep(
            f"Your turn: give the {kinds} below (tick its checklist, choose a verdict).",
            f"Go to the {mine_left[0]} review",
            f"#review-{mine_left[0]}",
        )
    if is_requester:
        return NextStep(
            f"Waiting for the {waiting}. You get an e-mail at each step, and you may "
            "withdraw the request until it is published."
        )
    mine = [r for r in done.values() if r.reviewer_id == user.pk]
    if mine:
        return NextStep(
            f"You gave the {mine[0].kind} review; the {waiting} must come from another person."
        )
    who = "the item's owners" if intake.item_id else "governance admins"
    return NextStep(
        f"Waiting for the {waiting}, by {who} or the security reviewers (the security review)."
    )


def _next_approved(user, intake: IntakeRequest) -> NextStep:
    from django.urls import reverse

    from catalog.permissions import can_publish_intake

    if can_publish_intake(user, intake):
        current = intake.item.pinned_version if intake.item_id else None
        impact = (
            f" See first which decisions named {current.version} and how to keep it allowed for a"
            " while."
            if current
            else ""
        )
        return NextStep(
            f"Both reviews approved it: publish {intake.version}.{impact}",
            "Review the impact and publish…",
            reverse("catalog:intake_request_publish", args=[intake.pk]),
        )
    who = "the item's owners" if intake.item_id else "a governance admin"
    return NextStep(f"Approved by both reviews; waiting for {who} to publish it.")
