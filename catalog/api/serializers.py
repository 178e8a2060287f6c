"""Catalog API serializers: parse and present; services write."""

from rest_framework import serializers

from catalog.choices import CHECKLISTS, DataClass, ReviewKind, ReviewVerdict
from catalog.models import CatalogItem, CatalogVersion, IntakeRequest, IntakeReview
from governance.api.serializers import StrictModelSerializer, StrictSerializer


class CatalogVersionSerializer(serializers.ModelSerializer):
    yanked = serializers.BooleanField(source="is_yanked")

    class Meta:
        model = CatalogVersion
        fields = [
            "id",
            "version",
            "artifact_digest",
            "review_state",
            "is_pinned",
            "yanked",
            "yank_reason",
            "tool_definitions_digest",
            "allowed_until",
            "created_at",
        ]
        read_only_fields = fields


class CatalogItemSerializer(serializers.ModelSerializer):
    owner = serializers.EmailField(source="owner.email", default=None, allow_null=True)
    owning_group = serializers.CharField(source="owning_group.name", default=None, allow_null=True)
    pinned_version = serializers.CharField(
        source="pinned_version.version", default=None, allow_null=True
    )
    versions = CatalogVersionSerializer(many=True, read_only=True)

    class Meta:
        model = CatalogItem
        fields = [
            "slug", "name", "kind", "description", "owner", "owning_group", "vendor", "systems",
            "data_classes", "reach", "status", "pinned_version", "mcp_server", "versions",
        ]  # fmt: skip
        read_only_fields = fields


class YankSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


class IntakeReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.EmailField(source="reviewer.email")

    class Meta:
        model = IntakeReview
        fields = ["round", "kind", "reviewer", "verdict", "checklist", "comment", "created_at"]
        read_only_fields = fields


class IntakeRequestSerializer(StrictModelSerializer):
    """An intake request as read, and as filed (POST) with `item` naming an existing slug
    for a new version."""

    item = serializers.SlugRelatedField(
        slug_field="slug", queryset=CatalogItem.objects.all(), required=False, allow_null=True
    )
    requester = serializers.EmailField(source="requester.email", read_only=True)
    data_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=DataClass.values), required=False
    )
    systems = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    reviews = IntakeReviewSerializer(many=True, read_only=True)
    published_version = serializers.CharField(
        source="published_version.version", default=None, read_only=True
    )

    class Meta:
        model = IntakeRequest
        fields = [
            "id", "kind", "state", "round", "requester", "item", "slug", "name", "item_kind",
            "description", "vendor", "systems", "data_classes", "reach", "version",
            "artifact_digest", "justification", "pin_on_publish", "last_note", "reviews",
            "published_version", "created_at", "state_changed_at", "mcp_server",
            "tool_definitions", "tool_definitions_digest",
        ]  # fmt: skip
        read_only_fields = [
            "id",
            "kind",
            "state",
            "round",
            "last_note",
            "tool_definitions_digest",
            "created_at",
            "state_changed_at",
        ]

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            return super().to_internal_value(data)  # "Send a JSON object."
        unknown = sorted(set(data) - {f for f, field in self.fields.items() if not field.read_only})
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown or read-only field."] for name in unknown}
            )
        return super().to_internal_value(data)


class ReviewSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ReviewKind.values)
    verdict = serializers.ChoiceField(choices=ReviewVerdict.values)
    checklist = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

    def validate(self, attrs):
        keys = {key for key, _ in CHECKLISTS[attrs["kind"]]}
        unknown = set(attrs["checklist"]) - keys
        if unknown:
            raise serializers.ValidationError(
                {
                    "checklist": [
                        f"Unknown items: {', '.join(sorted(unknown))}. "
                        f"Use: {', '.join(sorted(keys))}."
                    ]
                }
            )
        return attrs


class NoteSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PublishSerializer(StrictSerializer):
    pin = serializers.BooleanField(required=False, allow_null=True, default=None)
    previous_allowed_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A rollout window: the version pinned until now stays allowed until then "
        "(at most 90 days ahead), then is refused with version_not_pinned.",
    )


class PinSerializer(StrictSerializer):
    previous_allowed_until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=PublishSerializer._declared_fields["previous_allowed_until"].help_text,
    )


class ToolDefinitionsChangedSerializer(StrictSerializer):
    """What a gateway found: the pinned version and digest, and the live tools."""

    version = serializers.CharField(max_length=50, allow_null=True)
    expected_digest = serializers.RegexField(r"^sha256:[0-9a-f]{64}$")
    found_digest = serializers.RegexField(r"^sha256:[0-9a-f]{64}$")
    tools = serializers.ListField(child=serializers.DictField(), max_length=500)


class BlastRowSerializer(serializers.Serializer):
    runtime = serializers.CharField()
    profile = serializers.CharField()
    total = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField())
    refused = serializers.IntegerField(help_text="Refused with version_not_pinned after the pin.")
    unchanged = serializers.IntegerField()
    reasons = serializers.DictField(
        child=serializers.IntegerField(), help_text="Why the unchanged keep their outcome."
    )


class BlastRadiusSerializer(serializers.Serializer):
    """What pinning a version does to the last 30 days' decisions that named the version
    pinned now (replayed through the engine)."""

    item = serializers.CharField(source="item.slug")
    current_version = serializers.CharField(source="current.version", default=None)
    new_version = serializers.CharField(source="new.version")
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    applies = serializers.BooleanField(
        help_text="False when no decision can be affected (a connector, nothing pinned yet)."
    )
    total = serializers.IntegerField()
    refused = serializers.IntegerField()
    truncated = serializers.BooleanField()
    rows = BlastRowSerializer(many=True)
