"""The governed catalog: vetted connectors, plugins, skills and sub-agents, each with a
named owner and exactly one pinned version."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from catalog.choices import (
    DataClass,
    IntakeKind,
    IntakeState,
    ItemKind,
    ItemStatus,
    Reach,
    ReviewKind,
    ReviewVerdict,
    VersionReviewState,
)

digest_validator = RegexValidator(
    r"^sha256:[0-9a-f]{64}$", "Give the artifact digest as sha256:<64 hex digits>."
)
version_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,49}$", "Use a version such as 1.4.0 (letters, digits, . + _ -)."
)


def validate_mcp_server(value: object) -> str | None:
    """Why `value` is not a valid MCP server reference, or None when it is (or is empty)."""
    if value in (None, {}):
        return None
    if not isinstance(value, dict):
        return "Give an object with either a command (stdio) or a url (streamable HTTP)."
    unknown = set(value) - {"command", "args", "env", "url"}
    if unknown:
        return f"Unknown keys: {', '.join(sorted(unknown))}."
    if ("command" in value) == ("url" in value):
        return "Give either a command (stdio) or a url (streamable HTTP), not both."
    if "command" in value:
        command = value["command"]
        parts = [command] if isinstance(command, str) else command
        args = value.get("args", [])
        if not parts or not all(isinstance(p, str) and p for p in [*parts, *args]):
            return "command and args must be non-empty strings."
        env = value.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            return "env must map names to strings."
    elif not isinstance(value["url"], str) or not value["url"].startswith(("http://", "https://")):
        return "url must be an http:// or https:// address."
    return None


class CatalogItemQuerySet(models.QuerySet):
    def approved(self) -> "CatalogItemQuerySet":
        return self.filter(status=ItemStatus.APPROVED)

    def connectors(self) -> "CatalogItemQuerySet":
        return self.filter(kind=ItemKind.CONNECTOR)

    def plugins(self) -> "CatalogItemQuerySet":
        return self.filter(kind=ItemKind.PLUGIN)


class CatalogItem(models.Model):
    """A connector, plugin, skill or sub-agent that agents may use once approved.

    It documents its data exposure (systems reached, data classes, read or write) so that
    a profile author knows what granting it means."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_catalog_items",
    )
    owning_group = models.ForeignKey(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_catalog_items"
    )
    vendor = models.CharField(max_length=200, blank=True)
    systems = models.JSONField(default=list, blank=True, help_text="Systems this item reaches.")
    data_classes = models.JSONField(default=list, blank=True)
    reach = models.CharField(max_length=5, choices=Reach.choices, default=Reach.READ)
    status = models.CharField(
        max_length=10, choices=ItemStatus.choices, default=ItemStatus.PROPOSED
    )
    mcp_server = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'How the governed MCP gateway reaches this connector: {"command": ["uvx", '
            '"mcp-server-git"], "args": [...], "env": {...}} for stdio, or {"url": '
            '"https://..."} for streamable HTTP. Empty: not reachable through the gateway.'
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("catalog:catalog_item_detail", args=[self.slug])

    def clean(self) -> None:
        valid = set(DataClass.values)
        if not isinstance(self.data_classes, list) or not set(self.data_classes) <= valid:
            raise ValidationError(
                {"data_classes": f"Use data classes from: {', '.join(sorted(valid))}."}
            )
        if not isinstance(self.systems, list) or not all(isinstance(s, str) for s in self.systems):
            raise ValidationError({"systems": "Give a list of system names."})
        problem = validate_mcp_server(self.mcp_server)
        if problem:
            raise ValidationError({"mcp_server": problem})

    @property
    def pinned_version(self) -> "CatalogVersion | None":
        return next((v for v in self.versions.all() if v.is_pinned), None)


class CatalogVersionQuerySet(models.QuerySet):
    def pinned(self) -> "CatalogVersionQuerySet":
        return self.filter(is_pinned=True)

    def approved(self) -> "CatalogVersionQuerySet":
        return self.filter(review_state=VersionReviewState.APPROVED, yanked_at__isnull=True)


class CatalogVersion(models.Model):
    """One released version of a catalog item. Exactly one approved, unyanked version per
    item is pinned; rollback pins an earlier approved version, yank withdraws one."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=50, validators=[version_validator])
    artifact_digest = models.CharField(max_length=71, blank=True, validators=[digest_validator])
    review_state = models.CharField(
        max_length=10, choices=VersionReviewState.choices, default=VersionReviewState.PENDING
    )
    notes = models.TextField(blank=True)
    is_pinned = models.BooleanField(default=False)
    pinned_at = models.DateTimeField(null=True, blank=True)
    yanked_at = models.DateTimeField(null=True, blank=True)
    yank_reason = models.TextField(blank=True)
    # A rollout window: after a newer version was pinned, this one stays allowed until
    # then (decisions naming it later are refused with version_not_pinned).
    allowed_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Rollout window: while another version is pinned, this one stays allowed "
        "until then.",
    )
    # What an MCP server exposes in this version: the canonical tools/list (names,
    # descriptions, input schemas, annotations) as reviewed at intake, and its digest,
    # which the governed gateway compares with the live server at every start.
    tool_definitions = models.JSONField(null=True, blank=True)
    tool_definitions_digest = models.CharField(
        max_length=71, blank=True, validators=[digest_validator]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CatalogVersionQuerySet.as_manager()

    class Meta:
        ordering = ["item", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="catalog_version_unique"),
            models.UniqueConstraint(
                fields=["item"],
                condition=models.Q(is_pinned=True),
                name="catalog_version_one_pin_per_item",
                violation_error_message="An item has exactly one pinned version.",
            ),
            models.CheckConstraint(
                condition=models.Q(is_pinned=False)
                | (models.Q(review_state="approved") & models.Q(yanked_at__isnull=True)),
                name="catalog_version_pin_only_approved",
                violation_error_message="Only an approved, unyanked version can be pinned.",
            ),
            models.CheckConstraint(
                condition=models.Q(is_pinned=False) | models.Q(allowed_until__isnull=True),
                name="catalog_version_window_only_unpinned",
                violation_error_message="A rollout window is for a version that is not pinned.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.slug}@{self.version}"

    @property
    def is_yanked(self) -> bool:
        return self.yanked_at is not None

    def in_rollout_window(self, now=None) -> bool:
        """Still allowed beside the pinned version (see allowed_until)."""
        if self.is_pinned or self.is_yanked or self.allowed_until is None:
            return False
        return (now or timezone.now()) < self.allowed_until


class IntakeRequestQuerySet(models.QuerySet):
    def open(self) -> "IntakeRequestQuerySet":
        from catalog.choices import OPEN_INTAKE_STATES

        return self.filter(state__in=OPEN_INTAKE_STATES)


class IntakeRequest(models.Model):
    """A request to add an item to the catalog, or a new version of one, reviewed for
    security and data exposure before it is published (instead of an open marketplace).

    State changes only through the services of catalog/workflow.py's transition table."""

    kind = models.CharField(max_length=12, choices=IntakeKind.choices)
    state = models.CharField(
        max_length=20, choices=IntakeState.choices, default=IntakeState.SUBMITTED
    )
    round = models.PositiveSmallIntegerField(
        default=1, help_text="Review round: a resubmission after changes starts a new one."
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_requests"
    )
    item = models.ForeignKey(
        CatalogItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="intake_requests",
        help_text="The existing item, for a new version.",
    )
    # The item as proposed (for a new item) and the claimed data exposure (for both).
    slug = models.SlugField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    item_kind = models.CharField(max_length=10, choices=ItemKind.choices, blank=True)
    description = models.TextField(blank=True)
    proposed_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who will own the new item (default: the requester).",
    )
    vendor = models.CharField(max_length=200, help_text="The vendor, or where the source lives.")
    systems = models.JSONField(default=list, blank=True)
    data_classes = models.JSONField(default=list, blank=True)
    reach = models.CharField(max_length=5, choices=Reach.choices, default=Reach.READ)
    version = models.CharField(max_length=50, validators=[version_validator])
    artifact_digest = models.CharField(max_length=71, validators=[digest_validator])
    justification = models.TextField(help_text="Why agents need it, and for which tasks.")
    mcp_server = models.JSONField(
        default=dict, blank=True, help_text="How the gateway reaches it (see CatalogItem)."
    )
    tool_definitions = models.JSONField(
        null=True, blank=True, help_text="The MCP server's tools/list, as captured at intake."
    )
    tool_definitions_digest = models.CharField(
        max_length=71, blank=True, validators=[digest_validator]
    )
    server_json = models.JSONField(
        null=True, blank=True, help_text="The MCP Registry server.json it was started from."
    )
    pin_on_publish = models.BooleanField(default=True)
    published_version = models.ForeignKey(
        CatalogVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_note = models.TextField(blank=True, help_text="The last reason given for a state change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = IntakeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "state_changed_at"])]

    def __str__(self) -> str:
        return f"intake #{self.pk}: {self.target_label}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:intake_request_detail", args=[self.pk])

    @property
    def target_slug(self) -> str:
        return self.item.slug if self.item_id else self.slug

    @property
    def target_label(self) -> str:
        return f"{self.target_slug}@{self.version}"

    def current_reviews(self):
        return self.reviews.filter(round=self.round)


class IntakeReview(models.Model):
    """One review (security or data) of an intake request in a review round."""

    request = models.ForeignKey(IntakeRequest, on_delete=models.CASCADE, related_name="reviews")
    round = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=ReviewKind.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intake_reviews"
    )
    verdict = models.CharField(max_length=20, choices=ReviewVerdict.choices)
    checklist = models.JSONField(default=list, help_text="The checklist items the reviewer ticked.")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "round", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round", "kind"], name="intake_review_one_per_kind_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of #{self.request_id} by {self.reviewer}: {self.verdict}"
