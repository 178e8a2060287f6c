"""Policy as code: the whole governance configuration as one YAML/JSON document.

`policy_export()` writes it; `policy_import()` validates the whole document before
writing anything (every error with the path of the bad field), then applies it through
the ordinary services in one transaction, so each change is audited like a change made
in the console. A dry run applies it and rolls back, which makes its diff exactly the
diff of the real import. Importing the same document twice changes nothing.

Top-level objects missing from the document are kept (listed as unmanaged); the lists
inside an object (a profile's grants, launchers, action types, plugins) are replaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from audit.choices import EventType
from audit.models import AuditEvent
from audit.sealing import digest
from audit.services import audit_event_record
from catalog.choices import DataClass, ItemKind, ItemStatus, Reach, VersionReviewState
from catalog.models import CatalogItem, CatalogVersion, validate_mcp_server
from catalog.services import (
    catalog_item_create,
    catalog_item_update,
    catalog_version_create,
    catalog_version_pin,
    catalog_version_yank,
)
from governance.api.parsers import JSONRejected, json_value_check
from governance.choices import Access, Impact, ProfileStatus
from governance.conditions import ConditionError, conditions_parse
from governance.exceptions import ValidationFailed
from governance.identity import email_key
from governance.models import (
    ACTION_KEY_RE,
    TOOL_PATTERN_RE,
    ActionType,
    PermissionProfile,
    ToolMapping,
    User,
    validate_action_patterns,
)
from governance.services import (
    action_type_create,
    action_type_update,
    config_object_save,
    profile_create,
    profile_grant_add,
    profile_grant_remove,
    profile_update,
    require_policy_admin,
)

# ---------------------------------------------------------------------------
# The document's shape (structural validation, with DRF's nested error reporting)


class _Strict(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({k: ["Unknown field."] for k in unknown})
        return super().to_internal_value(data)


class ConditionsField(serializers.ListField):
    """`conditions:` of an action type or a profile: a list of mappings with exactly the
    keys name, when, effect, mode, message; each must compile (the message names the
    condition and the position of an error in its expression)."""

    child = serializers.DictField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            conditions = conditions_parse(value, owner="this entry")
        except ConditionError as error:
            raise serializers.ValidationError(str(error)) from error
        return [c.as_dict() for c in conditions]


class ActionTypeSpec(_Strict):
    key = serializers.RegexField(ACTION_KEY_RE, max_length=100)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    impact = serializers.ChoiceField(choices=Impact.values)
    reversible = serializers.BooleanField()
    auto_execute = serializers.BooleanField(default=False)
    approver_group = serializers.CharField(required=False, allow_null=True, default=None)
    escalation_group = serializers.CharField(required=False, allow_null=True, default=None)
    approvals_needed = serializers.IntegerField(min_value=1, max_value=5, default=1)
    approval_ttl_minutes = serializers.IntegerField(min_value=1, max_value=43200, default=60)
    approval_sla_minutes = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None
    )
    confirmable_by_launcher = serializers.BooleanField(default=False)
    conditions = ConditionsField(required=False, default=list)

    def validate(self, attrs):
        if attrs["confirmable_by_launcher"] and attrs["impact"] == "critical":
            raise serializers.ValidationError(
                {
                    "confirmable_by_launcher": [
                        "Critical actions cannot be confirmed by the launcher."
                    ]
                }
            )
        if attrs["auto_execute"] and (
            not attrs["reversible"] or attrs["impact"] in ("high", "critical")
        ):
            raise serializers.ValidationError(
                {
                    "auto_execute": [
                        "Only reversible actions of low or medium impact may auto-execute."
                    ]
                }
            )
        if not attrs["reversible"] or attrs["impact"] in ("high", "critical"):
            for condition in attrs["conditions"]:
                if condition["effect"] == "auto_execute":
                    raise serializers.ValidationError(
                        {
                            "conditions": [
                                f"Condition '{condition['name']}': an auto_execute condition "
                                "cannot apply to an irreversible or high-impact action type."
                            ]
                        }
                    )
        return attrs


class VersionSpec(_Strict):
    version = serializers.CharField(max_length=50)
    pinned = serializers.BooleanField(default=False)
    artifact_digest = serializers.RegexField(
        r"^sha256:[0-9a-f]{64}$", required=False, allow_blank=True, default=""
    )
    review_state = serializers.ChoiceField(
        choices=VersionReviewState.values, default=VersionReviewState.APPROVED
    )
    yanked = serializers.BooleanField(default=False)
    yank_reason = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("version"), int | float):
            data = {**data, "version": str(data["version"])}
        return super().to_internal_value(data)

    def validate(self, attrs):
        if attrs["pinned"] and (attrs["yanked"] or attrs["review_state"] != "approved"):
            raise serializers.ValidationError(
                {"pinned": ["Only an approved, unyanked version can be pinned."]}
            )
        return attrs


class CatalogItemSpec(_Strict):
    slug = serializers.SlugField(max_length=100)
    kind = serializers.ChoiceField(choices=ItemKind.values)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.EmailField(required=False, allow_null=True, default=None)
    owning_group = serializers.CharField(required=False, allow_null=True, default=None)
    vendor = serializers.CharField(required=False, allow_blank=True, default="")
    systems = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    data_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=DataClass.values), required=False, default=list
    )
    reach = serializers.ChoiceField(choices=Reach.values, default=Reach.READ)
    status = serializers.ChoiceField(choices=ItemStatus.values, default=ItemStatus.PROPOSED)
    mcp_server = serializers.JSONField(required=False, default=dict)
    versions = VersionSpec(many=True, required=False, default=list)

    def validate_mcp_server(self, value):
        problem = validate_mcp_server(value or {})
        if problem:
            raise serializers.ValidationError(problem)
        return value or {}

    def validate_versions(self, versions):
        if sum(1 for v in versions if v["pinned"]) > 1:
            raise serializers.ValidationError("At most one version may be pinned.")
        names = [v["version"] for v in versions]
        if len(names) != len(set(names)):
            raise serializers.ValidationError("Each version may appear only once.")
        return versions


class LaunchersSpec(_Strict):
    groups = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    users = serializers.ListField(child=serializers.EmailField(), required=False, default=list)


class GrantSpec(_Strict):
    connector = serializers.SlugField()
    resources = serializers.ListField(child=serializers.CharField(max_length=300), min_length=1)
    access = serializers.ChoiceField(choices=Access.values, default=Access.READ)

    def validate_resources(self, resources):
        for pattern in resources:
            if ":" in pattern or not pattern.strip():
                raise serializers.ValidationError(
                    f"{pattern!r} is not a resource path pattern such as account/* "
                    "(leave the connector out)."
                )
        return resources


class ActionPatternsField(serializers.ListField):
    child = serializers.CharField()

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = validate_action_patterns(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class ProfileSpec(_Strict):
    slug = serializers.SlugField(max_length=100)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(choices=ProfileStatus.values, default=ProfileStatus.DRAFT)
    owner = serializers.EmailField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    launchers = LaunchersSpec(required=False, default=dict)
    action_types = ActionPatternsField(required=False, default=list)
    always_ask = ActionPatternsField(required=False, default=list)
    plugins = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    grants = GrantSpec(many=True, required=False, default=list)
    conditions = ConditionsField(required=False, default=list)


class ToolMappingSpec(_Strict):
    tool = serializers.RegexField(TOOL_PATTERN_RE, max_length=200)
    action = serializers.CharField(max_length=100)
    connector = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    data_sources = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list
    )
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        try:
            ToolMapping(**attrs).clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return attrs


class PolicyDocumentSpec(_Strict):
    groups = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list
    )
    action_types = ActionTypeSpec(many=True, required=False, default=list)
    catalog = CatalogItemSpec(many=True, required=False, default=list)
    profiles = ProfileSpec(many=True, required=False, default=list)
    tool_mappings = ToolMappingSpec(many=True, required=False, default=list)

    def validate(self, attrs):
        for name, key in (
            ("action_types", "key"),
            ("catalog", "slug"),
            ("profiles", "slug"),
            ("tool_mappings", "tool"),
        ):
            seen: set[str] = set()
            for index, entry in enumerate(attrs[name]):
                if entry[key] in seen:
                    raise serializers.ValidationError(
                        {name: {index: {key: [f"{entry[key]!r} appears twice."]}}}
                    )
                seen.add(entry[key])
        return attrs


def flatten_errors(errors: Any, path: str = "") -> list[str]:
    """DRF's nested errors as "profiles[2].grants[0].access: message" lines."""
    if isinstance(errors, dict):
        lines = []
        for key, value in errors.items():
            if key == "non_field_errors":
                lines += flatten_errors(value, path)
            elif isinstance(key, int):
                lines += flatten_errors(value, f"{path}[{key}]")
            else:
                lines += flatten_errors(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [f"{path or '(document)'}: {e}" for e in errors]
        lines = []
        for index, value in enumerate(errors):
            if value:
                lines += flatten_errors(value, f"{path}[{index}]")
        return lines
    return [f"{path or '(document)'}: {errors}"]


# ---------------------------------------------------------------------------
# Reading the document


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a policy needs none, and aliases of aliases are
    how a few hundred bytes expand into gigabytes ("billion laughs")."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a policy", event.start_mark
            )
        return super().compose_node(parent, index)


def policy_parse(text: str) -> dict:
    """Parse YAML (or JSON, which is YAML) into a document; a clear error if it is not one."""
    try:
        document = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
        json_value_check(document)
    except yaml.YAMLError as error:
        raise ValidationFailed(f"The document is not valid YAML: {error}") from error
    except RecursionError as error:
        raise ValidationFailed("The document is nested too deeply.") from error
    except JSONRejected as error:
        raise ValidationFailed(f"The document is not acceptable: {error}") from error
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ValidationFailed(
            "The document must be a mapping with action_types, catalog, profiles."
        )
    return document


def _validate(document: dict) -> dict:
    spec = PolicyDocumentSpec(data=document)
    if not spec.is_valid():
        lines = flatten_errors(spec.errors)
        raise ValidationFailed(
            f"The policy has {len(lines)} error(s); nothing was changed.",
            extra={"errors": lines},
        )
    data = spec.validated_data
    lines = _validate_references(data)
    if lines:
        raise ValidationFailed(
            f"The policy has {len(lines)} error(s); nothing was changed.", extra={"errors": lines}
        )
    return data


def _validate_references(data: dict) -> list[str]:
    """Cross-references the structure cannot check: people, groups, catalog kinds."""
    errors: list[str] = []
    groups = set(Group.objects.values_list("name", flat=True)) | set(data["groups"])
    emails = set(User.objects.exclude(email_key="").values_list("email_key", flat=True))
    kinds = dict(CatalogItem.objects.values_list("slug", "kind"))
    kinds.update({item["slug"]: item["kind"] for item in data["catalog"]})

    def group(path: str, name: str | None) -> None:
        if name and name not in groups:
            errors.append(f"{path}: there is no group {name!r} (declare it under groups:).")

    def person(path: str, email: str | None) -> None:
        if email and email_key(email) not in emails:
            errors.append(f"{path}: there is no user with the e-mail {email!r}.")

    for i, at in enumerate(data["action_types"]):
        group(f"action_types[{i}].approver_group", at["approver_group"])
        group(f"action_types[{i}].escalation_group", at["escalation_group"])
    for i, item in enumerate(data["catalog"]):
        person(f"catalog[{i}].owner", item["owner"])
        group(f"catalog[{i}].owning_group", item["owning_group"])
    for i, profile in enumerate(data["profiles"]):
        path = f"profiles[{i}]"
        person(f"{path}.owner", profile["owner"])
        for j, name in enumerate(profile["launchers"].get("groups", [])):
            group(f"{path}.launchers.groups[{j}]", name)
        for j, email in enumerate(profile["launchers"].get("users", [])):
            person(f"{path}.launchers.users[{j}]", email)
        for j, slug in enumerate(profile["plugins"]):
            if kinds.get(slug) != ItemKind.PLUGIN:
                errors.append(f"{path}.plugins[{j}]: {slug!r} is not a plugin in the catalog.")
        for j, grant in enumerate(profile["grants"]):
            if kinds.get(grant["connector"]) != ItemKind.CONNECTOR:
                errors.append(
                    f"{path}.grants[{j}].connector: {grant['connector']!r} is not a connector "
                    "in the catalog."
                )
    return errors


# ---------------------------------------------------------------------------
# Applying it


@dataclass
class ImportResult:
    changes: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    applied: bool = False


class _DryRunRollback(Exception):
    pass


def policy_import(document: dict, *, actor: Any, dry_run: bool = False) -> ImportResult:
    """Validate and apply a policy document (see the module docstring)."""
    require_policy_admin(actor)
    data = _validate(document)
    result = ImportResult(unmanaged=_unmanaged(data))
    try:
        with transaction.atomic():
            first_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
            _apply(data, actor=actor)
            events = AuditEvent.objects.filter(id__gt=first_event or 0).order_by("id")
            result.changes = [line for event in events for line in describe_change(event)]
            if dry_run:
                raise _DryRunRollback
            if result.changes:
                audit_event_record(
                    event_type=EventType.POLICY_IMPORTED,
                    actor=actor,
                    detail={"document_digest": digest(document), "changes": len(result.changes)},
                )
            result.applied = True
    except _DryRunRollback:
        pass
    return result


def _unmanaged(data: dict) -> list[str]:
    named = {
        "action type": (
            {a["key"] for a in data["action_types"]},
            ActionType.objects.values_list("key", flat=True),
        ),
        "catalog item": (
            {c["slug"] for c in data["catalog"]},
            CatalogItem.objects.values_list("slug", flat=True),
        ),
        "profile": (
            {p["slug"] for p in data["profiles"]},
            PermissionProfile.objects.values_list("slug", flat=True),
        ),
        "tool mapping": (
            {m["tool"] for m in data["tool_mappings"]},
            ToolMapping.objects.values_list("tool", flat=True),
        ),
    }
    return [
        f"{kind} {name}"
        for kind, (in_doc, existing) in named.items()
        for name in existing
        if name not in in_doc
    ]


def _apply(data: dict, *, actor: Any) -> None:
    for name in data["groups"]:
        Group.objects.get_or_create(name=name)
    groups = {g.name: g for g in Group.objects.all()}
    users = {u.email_key: u for u in User.objects.exclude(email_key="")}
    for spec in data["action_types"]:
        _apply_action_type(spec, groups, actor)
    for spec in data["catalog"]:
        _apply_catalog_item(spec, groups, users, actor)
    for spec in data["profiles"]:
        _apply_profile(spec, groups, users, actor)
    for spec in data["tool_mappings"]:
        _apply_tool_mapping(spec, actor)


def _apply_tool_mapping(spec: dict, actor: Any) -> None:
    from governance.hooks.services import tool_mapping_create, tool_mapping_update

    existing = ToolMapping.objects.filter(tool=spec["tool"]).first()
    if existing is None:
        tool_mapping_create(actor=actor, **spec)
    else:
        tool_mapping_update(existing, actor=actor, **spec)


def _apply_action_type(spec: dict, groups: dict, actor: Any) -> None:
    fields = {**spec}
    fields["approver_group"] = (
        groups.get(spec["approver_group"]) if spec["approver_group"] else None
    )
    fields["escalation_group"] = (
        groups.get(spec["escalation_group"]) if spec["escalation_group"] else None
    )
    existing = ActionType.objects.filter(key=spec["key"]).first()
    if existing is None:
        action_type_create(actor=actor, **fields)
    else:
        action_type_update(existing, actor=actor, **fields)


def _apply_catalog_item(spec: dict, groups: dict, users: dict, actor: Any) -> None:
    fields = {k: v for k, v in spec.items() if k != "versions"}
    fields["owner"] = users.get(email_key(spec["owner"])) if spec["owner"] else None
    fields["owning_group"] = groups.get(spec["owning_group"]) if spec["owning_group"] else None
    item = CatalogItem.objects.filter(slug=spec["slug"]).first()
    if item is None:
        item = catalog_item_create(actor=actor, **fields)
    else:
        item = catalog_item_update(item, actor=actor, **fields)
    for version_spec in spec["versions"]:
        _apply_version(item, version_spec, actor)


def _apply_version(item: CatalogItem, spec: dict, actor: Any) -> None:
    version = item.versions.filter(version=spec["version"]).first()
    fields = {
        "artifact_digest": spec["artifact_digest"],
        "review_state": spec["review_state"],
        "notes": spec["notes"],
    }
    if version is None:
        version = catalog_version_create(actor=actor, item=item, version=spec["version"], **fields)
    elif not version.is_yanked:
        config_object_save(version, actor=actor, fields=fields)
    if spec["yanked"] and not version.is_yanked:
        catalog_version_yank(
            version, actor=actor, reason=spec["yank_reason"] or "Yanked by policy import."
        )
    elif spec["pinned"] and not version.is_pinned:
        catalog_version_pin(version, actor=actor)


def _apply_profile(spec: dict, groups: dict, users: dict, actor: Any) -> None:
    launchers = spec["launchers"]
    fields = {
        "name": spec["name"],
        "description": spec["description"],
        "status": spec["status"],
        "owner": users.get(email_key(spec["owner"])) if spec["owner"] else None,
        "expires_at": spec["expires_at"],
        "action_types": spec["action_types"],
        "always_ask": spec["always_ask"],
        "conditions": spec["conditions"],
        "launcher_groups": [groups[g] for g in launchers.get("groups", [])],
        "launcher_users": [users[email_key(e)] for e in launchers.get("users", [])],
        "plugins": list(CatalogItem.objects.filter(slug__in=spec["plugins"])),
    }
    profile = PermissionProfile.objects.filter(slug=spec["slug"]).first()
    if profile is None:
        profile = profile_create(actor=actor, slug=spec["slug"], **fields)
    else:
        profile = profile_update(profile, actor=actor, **fields)
    _sync_grants(profile, spec["grants"], actor)


def _grant_key(connector: str, resources: list[str], access: str) -> tuple:
    return (connector, tuple(sorted(resources)), access)


def _sync_grants(profile: PermissionProfile, specs: list[dict], actor: Any) -> None:
    wanted = {_grant_key(g["connector"], g["resources"], g["access"]): g for g in specs}
    existing = {
        _grant_key(g.connector.slug, g.resources, g.access): g
        for g in profile.grants.select_related("connector")
    }
    for key, grant in existing.items():
        if key not in wanted:
            profile_grant_remove(grant, actor=actor)
    connectors = {c.slug: c for c in CatalogItem.objects.connectors()}
    for key, spec in wanted.items():
        if key not in existing:
            profile_grant_add(
                actor=actor,
                profile=profile,
                connector=connectors[spec["connector"]],
                resources=spec["resources"],
                access=spec["access"],
            )


def describe_change(event: AuditEvent) -> list[str]:
    """One or more human-readable diff lines for a configuration event."""
    label = f"{event.object_type.split('.')[-1]} {event.object_repr}"
    changes = event.changes or {}
    before, after = changes.get("before"), changes.get("after")
    if event.event_type == EventType.CONFIG_CREATED:
        return [f"+ {label}"]
    if event.event_type == EventType.CONFIG_DELETED:
        return [f"- {label}"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [f"~ {label}: {event.get_event_type_display().lower()}"]
    return [
        f"~ {label}: {key}: {before.get(key)!r} -> {after.get(key)!r}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) and key != "revision"
    ] or [f"~ {label}"]


# ---------------------------------------------------------------------------
# Writing it


def policy_export() -> dict:
    """The whole configuration as a document that `policy_import` accepts unchanged."""
    return {
        "groups": sorted(
            {g.name for g in Group.objects.filter(approver_for_action_types__isnull=False)}
            | {g.name for g in Group.objects.filter(launchable_profiles__isnull=False)}
            | {g.name for g in Group.objects.filter(owned_catalog_items__isnull=False)}
        ),
        "action_types": [
            _export_action_type(a)
            for a in ActionType.objects.select_related("approver_group", "escalation_group")
        ],
        "catalog": [
            _export_item(i)
            for i in CatalogItem.objects.select_related("owner", "owning_group").prefetch_related(
                "versions"
            )
        ],
        "profiles": [
            _export_profile(p)
            for p in PermissionProfile.objects.select_related("owner").prefetch_related(
                "launcher_groups", "launcher_users", "plugins", "grants__connector"
            )
        ],
        "tool_mappings": [
            {
                "tool": m.tool,
                "action": m.action,
                "connector": m.connector,
                "data_sources": list(m.data_sources),
                "description": m.description,
            }
            for m in ToolMapping.objects.order_by("tool")
        ],
    }


def _export_action_type(at: ActionType) -> dict:
    return {
        "key": at.key,
        "name": at.name,
        "description": at.description,
        "impact": at.impact,
        "reversible": at.reversible,
        "auto_execute": at.auto_execute,
        "approver_group": at.approver_group.name if at.approver_group else None,
        "escalation_group": at.escalation_group.name if at.escalation_group else None,
        "approvals_needed": at.approvals_needed,
        "approval_ttl_minutes": at.approval_ttl_minutes,
        "approval_sla_minutes": at.approval_sla_minutes,
        "confirmable_by_launcher": at.confirmable_by_launcher,
        "conditions": list(at.conditions),
    }


def _export_item(item: CatalogItem) -> dict:
    return {
        "slug": item.slug,
        "kind": item.kind,
        "name": item.name,
        "description": item.description,
        "owner": item.owner.email if item.owner else None,
        "owning_group": item.owning_group.name if item.owning_group else None,
        "vendor": item.vendor,
        "systems": item.systems,
        "data_classes": item.data_classes,
        "reach": item.reach,
        "status": item.status,
        "mcp_server": item.mcp_server,
        "versions": [
            _export_version(v) for v in sorted(item.versions.all(), key=lambda v: v.created_at)
        ],
    }


def _export_version(version: CatalogVersion) -> dict:
    return {
        "version": version.version,
        "pinned": version.is_pinned,
        "artifact_digest": version.artifact_digest,
        "review_state": version.review_state,
        "yanked": version.is_yanked,
        "yank_reason": version.yank_reason,
        "notes": version.notes,
    }


def _export_profile(profile: PermissionProfile) -> dict:
    return {
        "slug": profile.slug,
        "name": profile.name,
        "description": profile.description,
        "status": profile.status,
        "owner": profile.owner.email if profile.owner else None,
        "expires_at": profile.expires_at.isoformat() if profile.expires_at else None,
        "launchers": {
            "groups": sorted(g.name for g in profile.launcher_groups.all()),
            "users": sorted(u.email for u in profile.launcher_users.all()),
        },
        "action_types": list(profile.action_types),
        "always_ask": list(profile.always_ask),
        "plugins": sorted(p.slug for p in profile.plugins.all()),
        "grants": [
            {"connector": g.connector.slug, "resources": list(g.resources), "access": g.access}
            for g in profile.grants.all()
        ],
        "conditions": list(profile.conditions),
    }


def policy_dump_yaml(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
