"""Serializers of the configuration API (governance admins). They parse and validate;
the viewsets hand `validated_data` to the services, which write and audit."""

from django.contrib.auth.models import Group
from rest_framework import serializers

from catalog.models import CatalogItem
from governance.api.serializers import StrictModelSerializer, StrictSerializer
from governance.models import ActionType, AgentRuntime, PermissionProfile, ProfileGrant, User


class GroupNameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="name", queryset=Group.objects.all(), **kwargs)


class ActionTypeSerializer(StrictModelSerializer):
    approver_group = GroupNameField(required=False, allow_null=True)
    escalation_group = GroupNameField(required=False, allow_null=True)

    class Meta:
        model = ActionType
        fields = [
            "key",
            "name",
            "description",
            "impact",
            "reversible",
            "auto_execute",
            "approver_group",
            "escalation_group",
            "approvals_needed",
            "approval_ttl_minutes",
            "approval_sla_minutes",
            "conditions",
            "confirmable_by_launcher",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class GrantSerializer(StrictModelSerializer):
    profile = serializers.SlugRelatedField(
        slug_field="slug", queryset=PermissionProfile.objects.all()
    )
    connector = serializers.SlugRelatedField(
        slug_field="slug", queryset=CatalogItem.objects.connectors()
    )
    resources = serializers.ListField(
        child=serializers.CharField(max_length=300), min_length=1, max_length=100
    )

    class Meta:
        model = ProfileGrant
        fields = ["id", "profile", "connector", "resources", "access", "created_at"]
        read_only_fields = ["id", "created_at"]


class NestedGrantSerializer(GrantSerializer):
    class Meta(GrantSerializer.Meta):
        fields = ["id", "connector", "resources", "access"]


class ProfileSerializer(StrictModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="email", queryset=User.objects.all(), required=False, allow_null=True
    )
    launcher_groups = GroupNameField(many=True, required=False)
    launcher_users = serializers.SlugRelatedField(
        slug_field="email", queryset=User.objects.all(), many=True, required=False
    )
    plugins = serializers.SlugRelatedField(
        slug_field="slug", queryset=CatalogItem.objects.plugins(), many=True, required=False
    )
    action_types = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    always_ask = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    grants = NestedGrantSerializer(many=True, read_only=True)

    class Meta:
        model = PermissionProfile
        fields = [
            "slug",
            "name",
            "description",
            "status",
            "owner",
            "expires_at",
            "launcher_groups",
            "launcher_users",
            "action_types",
            "always_ask",
            "conditions",
            "plugins",
            "grants",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["revision", "created_at", "updated_at"]


class RuntimeSerializer(StrictModelSerializer):
    profiles = serializers.SlugRelatedField(
        slug_field="slug", queryset=PermissionProfile.objects.all(), many=True, required=False
    )
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = AgentRuntime
        fields = [
            "name",
            "description",
            "profiles",
            "token_prefix",
            "callback_url",
            "active",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = [
            "token_prefix",
            "callback_url",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]


class RuntimeCreatedSerializer(RuntimeSerializer):
    """The answer to creating a runtime or rotating its token: the only time the token shows."""

    token = serializers.CharField(read_only=True)

    class Meta(RuntimeSerializer.Meta):
        fields = RuntimeSerializer.Meta.fields + ["token"]


class CallbackSerializer(StrictSerializer):
    url = serializers.CharField(allow_blank=True, max_length=500, help_text="https://... or empty")
    secret = serializers.CharField(read_only=True)


class RevokeSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
