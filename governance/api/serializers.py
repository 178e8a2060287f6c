"""Serializers of the governance API: parse and validate, never write."""

import json
import re

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from governance.exceptions import ValidationFailed
from governance.models import ACTION_KEY_RE, Decision
from governance.paths import PathError, data_source_split
from governance.services import person_key_from_address

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
PLUGIN_RE = re.compile(r"^[-a-zA-Z0-9_]+@[0-9A-Za-z][0-9A-Za-z.+_-]*$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:/+-]{1,200}$")


class StrictFieldsMixin:
    """Refuses fields it does not know: a typo (`always_aks`) must not silently drop a
    constraint. Read-only fields are known, so sending back what a GET answered is fine."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}, code="invalid"
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A plain serializer that refuses unknown fields."""


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A model serializer that refuses unknown fields."""


class DataSourceField(serializers.CharField):
    """One data source, accepted only in normal form (see governance/paths.py)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 601)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            data_source_split(value)
        except PathError as error:
            raise serializers.ValidationError(
                f"{error} Use connector:resource/path, e.g. crm:account/42."
            ) from error
        return value


class ParamsField(serializers.JSONField):
    """A JSON object of bounded size."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        limit = settings.GOVERNANCE["MAX_PARAMS_BYTES"]
        if len(json.dumps(data)) > limit:
            raise serializers.ValidationError(f"Must be at most {limit} bytes of JSON.")
        return data


class DecisionRequestSerializer(StrictSerializer):
    """What an agent proposes (POST /api/v1/decisions)."""

    request_id = serializers.RegexField(
        REQUEST_ID_RE,
        max_length=200,
        help_text="Idempotency key: the same runtime sending the same id gets the same decision.",
        error_messages={"invalid": "Use 1-200 characters among letters, digits and . _ : / + -"},
    )
    on_behalf_of = serializers.CharField(
        max_length=254, help_text="E-mail of the person the agent acts for (plain ASCII)."
    )
    profile = serializers.RegexField(SLUG_RE, max_length=100, help_text="Permission profile slug.")
    action = serializers.RegexField(
        ACTION_KEY_RE,
        max_length=100,
        help_text="Action type key, e.g. mail.send_external.",
        error_messages={"invalid": "Use lowercase words separated by dots, e.g. crm.read_record."},
    )
    connector = serializers.RegexField(
        SLUG_RE,
        max_length=100,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Catalog slug of the connector the action changes (omit for reads).",
    )
    data_sources = serializers.ListField(
        child=DataSourceField(),
        required=False,
        default=list,
        help_text="Data the action reads or changes, as connector:resource/path.",
    )
    plugin = serializers.RegexField(
        PLUGIN_RE,
        max_length=200,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The plugin acting, as slug@version (the version is required).",
        error_messages={"invalid": "Name the plugin with its version, as slug@version."},
    )
    model = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    params = ParamsField(required=False, default=dict, help_text="The action's parameters.")
    rationale = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_on_behalf_of(self, value):
        """Canonicalised once, here at the edge (identity.email_canonical)."""
        try:
            return person_key_from_address(value)
        except ValidationFailed as error:
            raise serializers.ValidationError(error.message) from error

    def validate_data_sources(self, value):
        limit = settings.GOVERNANCE["MAX_DATA_SOURCES"]
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} data sources per decision.")
        return value

    def validate_rationale(self, value):
        limit = settings.GOVERNANCE["MAX_RATIONALE_CHARS"]
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} characters.")
        return value


class DecisionSerializer(serializers.ModelSerializer):
    """A decision as its runtime sees it."""

    decision_id = serializers.UUIDField(source="id", read_only=True)
    profile = serializers.CharField(source="profile_slug")
    params = serializers.JSONField(source="effective_params")
    params_digest = serializers.CharField(source="effective_params_digest")
    proposed_params_digest = serializers.CharField(source="params_digest")
    approval = serializers.SerializerMethodField()
    approval_id = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()
    edited = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "decision_id",
            "request_id",
            "outcome",
            "status",
            "reason",
            "message",
            "policy_revision",
            "on_behalf_of",
            "profile",
            "action",
            "connector",
            "data_sources",
            "plugin",
            "model",
            "params",
            "params_digest",
            "proposed_params_digest",
            "edited",
            "approval",
            "approval_id",
            "expires_at",
            "created_at",
            "resolved_at",
            "reported_at",
            "status_url",
        ]
        read_only_fields = fields

    def _approval_request(self, obj):
        if obj.outcome != "pending":  # only pending decisions have one; spare the query
            return None
        try:
            return obj.approval_request
        except Decision.approval_request.RelatedObjectDoesNotExist:
            return None

    def get_approval(self, obj) -> str | None:
        return obj.approval or None

    def get_approval_id(self, obj) -> int | None:
        approval = self._approval_request(obj)
        return approval.pk if approval else None

    def get_expires_at(self, obj) -> str | None:
        approval = self._approval_request(obj)
        return approval.expires_at.isoformat() if approval else None

    def get_status_url(self, obj) -> str:
        path = reverse("governance-api:decision-detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_edited(self, obj) -> bool:
        return obj.approved_params is not None and obj.approved_params_digest != obj.params_digest


class OutcomeReportSerializer(StrictSerializer):
    """What an agent reports after acting (POST /api/v1/decisions/{id}/outcome)."""

    status = serializers.ChoiceField(choices=["executed", "failed", "skipped"])
    params_digest = serializers.RegexField(
        r"^[0-9a-f]{64}$", error_messages={"invalid": "Give the 64-hex-digit params digest."}
    )
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class RuntimeProfileSerializer(serializers.ModelSerializer):
    """What a runtime may know of a profile it may use."""

    plugins = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    grants = serializers.SerializerMethodField()

    class Meta:
        from governance.models import PermissionProfile

        model = PermissionProfile
        fields = [
            "slug",
            "name",
            "status",
            "expires_at",
            "action_types",
            "always_ask",
            "plugins",
            "grants",
        ]
        read_only_fields = fields

    def get_grants(self, obj) -> list[dict]:
        return [
            {"connector": g.connector.slug, "resources": g.resources, "access": g.access}
            for g in obj.grants.all()
        ]
