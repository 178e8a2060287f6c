"""The policy domain: who may do what, through which agent, and what was decided."""

import re
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from governance.choices import (
    Access,
    DecisionStatus,
    Impact,
    Outcome,
    ProfileStatus,
    ReasonCode,
    Role,
)
from governance.conditions import ConditionError, Effect, conditions_parse
from governance.identity import IdentityError, email_canonical, email_key
from governance.paths import PathError, data_source_split, resource_pattern_check

ACTION_KEY_RE = r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"
ACTION_PATTERN_RE = r"^[a-z0-9_.*?\[\]!-]+$"
action_key_validator = RegexValidator(
    ACTION_KEY_RE, "Use lowercase words separated by dots, e.g. crm.read_record."
)


class UserQuerySet(models.QuerySet):
    def by_email(self, email: str) -> "UserQuerySet":
        """The person with this address, compared by canonical key (see identity.py)."""
        key = email_key(email)
        return self.filter(email_key=key) if key else self.none()

    def in_role(self, role: Role) -> "UserQuerySet":
        return self.filter(groups__name=role.value, is_active=True).distinct()


class PersonManager(UserManager.from_queryset(UserQuerySet)):
    """Django's user manager (create_user, ...) with our queryset methods."""

    use_in_migrations = True


class User(AbstractUser):
    """A person. Agents act `on_behalf_of` a person named by e-mail, so each address is
    stored with its canonical key (`identity.email_key`, kept in step by `save()`), which
    is unique: two spellings of one address are one person, and every comparison of
    people goes through that key or the user id (`identity.same_person`)."""

    email = models.EmailField("e-mail address")
    email_key = models.CharField(
        "canonical e-mail", max_length=254, blank=True, editable=False, db_index=True
    )

    objects = PersonManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                fields=["email_key"],
                name="user_email_key_unique",
                condition=~models.Q(email_key=""),
                violation_error_message="Another person already uses this e-mail address.",
            )
        ]

    def __str__(self) -> str:
        return self.email or self.username

    def clean(self) -> None:
        super().clean()
        if self.email:
            try:
                email_canonical(self.email, allow_international=_international_allowed())
            except IdentityError as error:
                raise ValidationError({"email": str(error)}) from error

    def save(self, *args, **kwargs):
        self.email_key = email_key(self.email or "")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_key"}
        super().save(*args, **kwargs)

    def role_names(self) -> set[str]:
        return set(self.groups.values_list("name", flat=True))


def _international_allowed() -> bool:
    return settings.GOVERNANCE["ALLOW_INTERNATIONAL_EMAIL"]


class PolicyRevision(models.Model):
    """The single counter that every change of the governance configuration bumps.

    Each process caches its policy snapshot by this number; each decision records the
    revision it was made under, so that "which rules were in force?" has an answer."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    number = models.PositiveBigIntegerField(default=1)
    # A fresh random value with every bump: a bump that rolls back may see its number
    # reused by the next one, never its token, so caches key on the token.
    token = models.UUIDField(default=uuid.uuid4)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="policy_revision_single_row")
        ]

    def __str__(self) -> str:
        return f"policy revision {self.number}"


class ActionType(models.Model):
    """A kind of action an agent may propose, with its impact and reversibility.

    Only low or medium impact, reversible action types may be on the auto-execute
    allow-list; everything else goes to a person (default-to-human)."""

    key = models.CharField(max_length=100, unique=True, validators=[action_key_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MEDIUM)
    reversible = models.BooleanField(default=False)
    auto_execute = models.BooleanField(
        "on the auto-execute allow-list",
        default=False,
        help_text="Run without asking a person. Only for low or medium impact, reversible actions.",
    )
    approver_group = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approver_for_action_types",
        help_text="Who decides when this action needs a person (default: governance admins).",
    )
    escalation_group = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalation_for_action_types",
        help_text="Who else may decide once the approval is past its SLA.",
    )
    approvals_needed = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Distinct approvers needed; critical actions always need at least two.",
    )
    approval_ttl_minutes = models.PositiveIntegerField(
        "approval expires after (minutes)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)],
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="Ordered conditions over the request (CEL): name, when, effect "
        "(deny | require_approval | auto_execute), mode (enforce | shadow), message.",
    )
    approval_sla_minutes = models.PositiveIntegerField(
        "approval SLA (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Escalate when nobody decided within this time (default: half the expiry).",
    )
    confirmable_by_launcher = models.BooleanField(
        "the launcher may confirm it",
        default=False,
        help_text="When it needs a person, the Claude Code hook may ask the person at the "
        "keyboard (who launched the agent) instead of waiting for the approver group. "
        "Never for critical actions.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(auto_execute=False)
                | (models.Q(reversible=True) & models.Q(impact__in=["low", "medium"])),
                name="action_type_allowlist_only_low_reversible",
                violation_error_message=(
                    "Only reversible actions of low or medium impact may run without a person."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def get_absolute_url(self) -> str:
        return reverse("governance:action_type_detail", args=[self.pk])

    def clean(self) -> None:
        if self.auto_execute and (not self.reversible or self.impact in ("high", "critical")):
            raise ValidationError(
                {
                    "auto_execute": "Only reversible actions of low or medium impact may run "
                    "without a person; irreversible or high-impact actions always go to a person."
                }
            )
        if self.conditions in (None, ""):
            self.conditions = []  # an emptied field in a form means "no conditions"
        problem = conditions_problem(self.conditions, owner=f"action type '{self.key}'")
        if problem is None and (not self.reversible or self.impact in ("high", "critical")):
            problem = next(
                (
                    f"Condition '{c['name']}': an auto_execute condition cannot apply to an "
                    "irreversible or high-impact action type; a person always decides those."
                    for c in self.conditions
                    if c.get("effect") == Effect.AUTO_EXECUTE
                ),
                None,
            )
        if problem:
            raise ValidationError({"conditions": problem})
        if self.confirmable_by_launcher and self.impact == Impact.CRITICAL:
            raise ValidationError(
                {
                    "confirmable_by_launcher": "Critical actions need two approvers; the person "
                    "who launched the agent cannot confirm them alone."
                }
            )

    @property
    def effective_approvals_needed(self) -> int:
        return max(self.approvals_needed, 2 if self.impact == Impact.CRITICAL else 1)


class PermissionProfileQuerySet(models.QuerySet):
    def active(self) -> "PermissionProfileQuerySet":
        return self.filter(status=ProfileStatus.ACTIVE)


class PermissionProfile(models.Model):
    """Task-scoped access for an agent: the task's access, never the launching person's.

    `action_types` and `always_ask` hold action type keys or shell-style globs
    ("crm.read_*"); a glob lets an unknown action type reach a person instead of
    being impossible to express."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="The task this profile is for.")
    status = models.CharField(
        max_length=10, choices=ProfileStatus.choices, default=ProfileStatus.DRAFT
    )
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_profiles"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    launcher_groups = models.ManyToManyField(Group, blank=True, related_name="launchable_profiles")
    launcher_users = models.ManyToManyField(User, blank=True, related_name="launchable_profiles")
    action_types = models.JSONField(
        default=list,
        blank=True,
        help_text="Action type keys (or globs such as crm.read_*) this profile may propose.",
    )
    always_ask = models.JSONField(
        default=list,
        blank=True,
        help_text="Action types that always go to a person under this profile, "
        "even if allow-listed.",
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="Ordered conditions over the request (CEL), checked before the action "
        "type's: name, when, effect, mode, message.",
    )
    plugins = models.ManyToManyField(
        "catalog.CatalogItem",
        blank=True,
        related_name="profiles",
        limit_choices_to={"kind": "plugin"},
        help_text="Plugins this profile may use; only their pinned version is allowed.",
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PermissionProfileQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("governance:profile_detail", args=[self.slug])

    def audit_extra(self) -> dict:
        """The grants belong to the profile's record: a grant change is a profile change."""
        return {
            "grants": [
                {"connector": g.connector.slug, "resources": list(g.resources), "access": g.access}
                for g in self.grants.select_related("connector").order_by("connector__slug", "id")
            ]
        }

    def clean(self) -> None:
        errors = {}
        for name in ("action_types", "always_ask"):
            value = getattr(self, name)
            problem = validate_action_patterns(value)
            if problem:
                errors[name] = problem
        if self.conditions in (None, ""):
            self.conditions = []  # an emptied field in a form means "no conditions"
        problem = conditions_problem(self.conditions, owner=f"profile '{self.slug}'")
        if problem:
            errors["conditions"] = problem
        if errors:
            raise ValidationError(errors)


def conditions_problem(value: object, *, owner: str) -> str | None:
    """Why a list of conditions cannot be saved (the first problem, naming the condition
    and the position of an expression's error), or None."""
    try:
        conditions_parse(value, owner=owner)
    except ConditionError as error:
        return str(error)
    return None


def validate_action_patterns(value: object) -> str | None:
    """Return why `value` is not a list of action keys/globs, or None when it is."""
    if not isinstance(value, list):
        return "Give a list of action type keys."
    for item in value:
        if not isinstance(item, str) or not re.match(ACTION_PATTERN_RE, item):
            return f"{item!r} is not an action type key or glob (e.g. crm.read_record, crm.*)."
    return None


class ProfileGrant(models.Model):
    """Data access a profile grants on one connector: resource globs and read or write."""

    profile = models.ForeignKey(PermissionProfile, on_delete=models.CASCADE, related_name="grants")
    connector = models.ForeignKey(
        "catalog.CatalogItem",
        on_delete=models.PROTECT,
        related_name="grants",
        limit_choices_to={"kind": "connector"},
    )
    resources = models.JSONField(
        default=list,
        help_text='Shell-style globs over the resource path, e.g. ["account/*"].',
    )
    access = models.CharField(max_length=5, choices=Access.choices, default=Access.READ)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["profile", "connector__slug", "access"]

    def __str__(self) -> str:
        return f"{self.connector.slug}:{','.join(self.resources)} ({self.access})"

    def clean(self) -> None:
        if not isinstance(self.resources, list) or not self.resources:
            raise ValidationError({"resources": "Give at least one resource pattern."})
        for pattern in self.resources:
            if not isinstance(pattern, str) or ":" in pattern:
                raise ValidationError(
                    {"resources": f"{pattern!r} is not a resource path pattern such as account/*."}
                )
            try:
                resource_pattern_check(pattern)
            except PathError as error:
                raise ValidationError({"resources": str(error)}) from error


class AgentRuntimeQuerySet(models.QuerySet):
    def active(self) -> "AgentRuntimeQuerySet":
        return self.filter(revoked_at__isnull=True)


class AgentRuntime(models.Model):
    """An agent runtime: an API client holding a bearer token (only its hash is stored).

    It authenticates the decision API; `request.user` is the runtime itself, which is
    why it answers `is_authenticated`."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    profiles = models.ManyToManyField(PermissionProfile, blank=True, related_name="runtimes")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=16, editable=False)
    callback_url = models.URLField(
        blank=True,
        max_length=500,
        help_text="Where the console POSTs a signed webhook when one of its pending decisions "
        "is resolved (empty: the runtime polls).",
    )
    # Kept readable because every webhook is signed with it; never shown after it is set,
    # never logged, masked in audit records.
    callback_secret = models.CharField(max_length=100, blank=True, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = AgentRuntimeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF treats request.user as the authenticated principal.
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def label(self) -> str:
        return f"runtime:{self.name}"


class UserTokenQuerySet(models.QuerySet):
    def active(self) -> "UserTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class UserToken(models.Model):
    """A person's API token for chat-ops bots and scripts (approvals API). Printed once by
    `manage.py create_user_token`; only its hash is stored; revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. slack-bot.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserTokenQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return f"{self.token_prefix}… ({self.name}, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DecisionQuerySet(models.QuerySet):
    def pending(self) -> "DecisionQuerySet":
        return self.filter(status=DecisionStatus.PENDING)


class Decision(models.Model):
    """One proposed action and what was decided about it (written only by
    `services.decision_create`). Its status walks pending -> approved / rejected /
    expired -> executed / failed / skipped, or allowed / denied at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (runtime, request_id) index starts with it.
    runtime = models.ForeignKey(
        AgentRuntime, on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    request_id = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    # The canonical address (identity.email_key) and, where it belongs to a user, that
    # user: separation of duties compares people by this id (identity.same_person).
    on_behalf_of = models.EmailField()
    on_behalf_of_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    profile_slug = models.CharField(max_length=100)
    action = models.CharField(max_length=100)
    connector = models.CharField(max_length=100, blank=True)
    data_sources = models.JSONField(default=list)
    plugin = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict)
    params_digest = models.CharField(max_length=64)
    approved_params = models.JSONField(null=True, blank=True)
    approved_params_digest = models.CharField(max_length=64, blank=True)
    rationale = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status = models.CharField(max_length=10, choices=DecisionStatus.choices)
    reason = models.CharField(max_length=40, choices=ReasonCode.choices)
    message = models.TextField()
    impact = models.CharField(max_length=10, choices=Impact.choices, blank=True)
    reversible = models.BooleanField(null=True)
    facts = models.JSONField(default=dict)
    policy_revision = models.PositiveBigIntegerField()
    profile_revision = models.PositiveIntegerField(null=True)
    approval = models.CharField(
        max_length=500, blank=True, help_text='"auto", or "human:<email>[,<email>]" once approved.'
    )
    outcome_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["runtime", "request_id"], name="decision_idempotency")
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["profile_slug", "created_at"]),
            models.Index(fields=["action", "created_at"]),
            # The dashboards' incremental refresh finds decisions resolved since its last run.
            models.Index(fields=["resolved_at"], name="decision_resolved_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} for {self.on_behalf_of} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("governance:decision_detail", args=[self.pk])

    @property
    def effective_params(self) -> dict:
        """The params the agent must use: edited by a person, or as proposed."""
        return self.approved_params if self.approved_params is not None else self.params

    @property
    def effective_params_digest(self) -> str:
        return self.approved_params_digest or self.params_digest


TOOL_PATTERN_RE = r"^[A-Za-z0-9_*?.-]+$"
tool_pattern_validator = RegexValidator(
    TOOL_PATTERN_RE, "Use a tool name such as Bash or mcp__git__git_commit, or a * pattern."
)
TEMPLATE_RE = r"^[A-Za-z0-9_.{}*/:-]*$"


class ToolMapping(models.Model):
    """How a Claude Code tool (or an MCP tool, named mcp__<server>__<tool>) maps to an
    action type, the connector it changes and its data sources.

    Kept in the console, not on each laptop: the command hook, the HTTP hook endpoint and
    the MCP gateway all read these rules (keyed by the policy revision), so changing one
    is a governed, audited configuration change like any other."""

    tool = models.CharField(
        max_length=200,
        unique=True,
        validators=[tool_pattern_validator],
        help_text="A tool name (Bash, Edit, mcp__git__git_commit) or a pattern (mcp__git__*).",
    )
    action = models.CharField(
        max_length=100,
        help_text="The action type key; {server} and {tool} stand for the parts of an MCP "
        "tool name (e.g. git.{tool}).",
    )
    connector = models.CharField(
        max_length=100,
        blank=True,
        help_text="The catalog connector the call changes (empty: it only reads).",
    )
    data_sources = models.JSONField(
        default=list,
        blank=True,
        help_text="Templates such as repo:{file_path}; {name} is that field of the tool input.",
    )
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tool"]

    def __str__(self) -> str:
        return self.tool

    def get_absolute_url(self) -> str:
        return reverse("governance:tool_mapping_list") + f"#mapping-{self.pk}"

    def clean(self) -> None:
        errors = {}
        probe = re.sub(r"\{(server|tool)\}", "x", self.action or "")
        if not re.match(ACTION_KEY_RE, probe):
            errors["action"] = (
                f"{self.action!r} is not an action type key (e.g. shell.exec, git.{{tool}})."
            )
        if self.connector and not re.match(r"^([a-z0-9_-]+|\{server\})$", self.connector):
            errors["connector"] = "Give a connector slug, or {server}."
        problem = validate_source_templates(self.data_sources)
        if problem:
            errors["data_sources"] = problem
        if errors:
            raise ValidationError(errors)


def validate_source_templates(value: object) -> str | None:
    """Why `value` is not a list of data-source templates, or None when it is."""
    if not isinstance(value, list):
        return "Give a list of data-source templates such as repo:{file_path}."
    for item in value:
        if (
            not isinstance(item, str)
            or ":" not in item
            or not item.partition(":")[0]
            or not re.match(TEMPLATE_RE, item)
        ):
            return f"{item!r} is not a data-source template such as repo:{{file_path}}."
        # What the template makes must be a data source the decision API accepts, so its
        # literal parts follow the grammar (governance/paths.py) with any value filled in.
        try:
            data_source_split(re.sub(r"\{[A-Za-z_][A-Za-z0-9_]*\}", "x", item))
        except PathError as error:
            return f"{item!r} would not make a valid data source: {error}"
    return None
