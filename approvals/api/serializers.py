"""Serializers of the approvals API (chat-ops bots): parse and present, never write."""

from rest_framework import serializers

from approvals.models import ApprovalRequest, ApprovalVote
from governance.api.serializers import ParamsField, StrictSerializer


class VoteSerializer(serializers.ModelSerializer):
    voter = serializers.EmailField(source="voter.email")

    class Meta:
        model = ApprovalVote
        fields = ["voter", "verdict", "comment", "params_digest", "created_at"]
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    decision_id = serializers.UUIDField(source="decision.id")
    action = serializers.CharField(source="decision.action")
    on_behalf_of = serializers.EmailField(source="decision.on_behalf_of")
    runtime = serializers.CharField(source="decision.runtime.name")
    profile = serializers.CharField(source="decision.profile_slug")
    impact = serializers.CharField(source="decision.impact")
    reversible = serializers.BooleanField(source="decision.reversible", allow_null=True)
    reason = serializers.CharField(source="decision.reason")
    message = serializers.CharField(source="decision.message")
    connector = serializers.CharField(source="decision.connector")
    data_sources = serializers.ListField(
        source="decision.data_sources", child=serializers.CharField()
    )
    plugin = serializers.CharField(source="decision.plugin")
    model = serializers.CharField(source="decision.model")
    rationale = serializers.CharField(source="decision.rationale")
    params = serializers.JSONField(source="decision.effective_params")
    params_digest = serializers.CharField(source="decision.effective_params_digest")
    group = serializers.CharField(source="group.name")
    escalation_group = serializers.CharField(
        source="escalation_group.name", allow_null=True, default=None
    )
    votes = VoteSerializer(many=True, read_only=True)
    console_url = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "status",
            "decision_id",
            "action",
            "on_behalf_of",
            "runtime",
            "profile",
            "impact",
            "reversible",
            "reason",
            "message",
            "connector",
            "data_sources",
            "plugin",
            "model",
            "rationale",
            "params",
            "params_digest",
            "group",
            "escalation_group",
            "approvals_needed",
            "votes",
            "created_at",
            "sla_due_at",
            "escalated_at",
            "expires_at",
            "resolved_at",
            "console_url",
        ]
        read_only_fields = fields

    def get_console_url(self, obj) -> str:
        request = self.context.get("request")
        path = obj.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class ApproveSerializer(StrictSerializer):
    params = ParamsField(
        required=False, help_text="Edited params (a JSON object); omit to approve as proposed."
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why: the agent and the requester see it."
    )

    def validate_reason(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give a reason for the rejection.")
        return value
