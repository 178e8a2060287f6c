"""The structured, append-only audit log."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from audit.choices import (
    Category,
    EventType,
    OutboxTopic,
    RecommendationKind,
    RecommendationStatus,
    SinkKind,
)
from audit.sealing import event_content_hash

# Version 2 of the content hash covers `recorded_at` and the version itself (see below).
HASH_VERSION = 2


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event through the ORM."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only; they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted.")

    def decisions(self) -> "AuditEventQuerySet":
        return self.filter(decision__isnull=False)


class AuditEvent(models.Model):
    """One thing that happened: an agent's proposed action and its decision, a human vote,
    an outcome, or a change of the governance configuration.

    Written only by `audit.services.audit_event_record`. The seed's record fields come
    first; the actor is kept both as a foreign key and as text so that the record reads
    the same after the person or runtime is gone. On PostgreSQL a trigger refuses UPDATE,
    DELETE and TRUNCATE of this table (only the retention purge role may delete sealed
    rows, see migration 0011).

    Every column is evidence: the keyed content hash covers all of them (HASHED_FIELDS)
    except `id`, which the database assigns at insert and the seals bind to the content
    hash, and `content_hash` itself. Events written before hash version 2 (migration 0010)
    keep their version 1 hash, which does not cover `recorded_at`."""

    # The fields of the audit record, in the export's order.
    RECORD_FIELDS = (
        "timestamp",
        "actor",
        "on_behalf_of",
        "action",
        "approval",
        "data_sources",
        "model",
        "plugin",
        "reversible",
    )
    # What a version 1 content hash covers (events written before migration 0010).
    HASHED_FIELDS_V1 = RECORD_FIELDS + (
        "event_type",
        "outcome",
        "reason",
        "profile",
        "profile_revision",
        "policy_revision",
        "request_id",
        "params_digest",
        "approved_params_digest",
        "decision_id",
        "actor_user_id",
        "actor_runtime_id",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "detail",
        "correlation_id",
    )
    # What the current content hash covers: every column but the id and the hash itself.
    HASHED_FIELDS = HASHED_FIELDS_V1 + ("recorded_at", "hash_version")
    HASHED_FIELDS_BY_VERSION = {1: HASHED_FIELDS_V1, HASH_VERSION: HASHED_FIELDS}
    # Columns outside the content hash, and why they need not be in it.
    NOT_HASHED = {
        "id": "assigned by the database at insert; each seal binds ids to content hashes",
        "content_hash": "the hash itself",
    }

    timestamp = models.DateTimeField(db_index=True)
    actor = models.CharField(
        max_length=300, help_text='"runtime:<name>", "user:<email>" or "system".'
    )
    on_behalf_of = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100, blank=True)
    approval = models.CharField(max_length=500, null=True, blank=True)
    data_sources = models.JSONField(default=list, blank=True)
    model = models.CharField(max_length=200, blank=True)
    plugin = models.CharField(max_length=200, blank=True)
    reversible = models.BooleanField(null=True)

    event_type = models.CharField(max_length=40, choices=EventType.choices)
    outcome = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=60, blank=True)
    profile = models.CharField(max_length=100, blank=True)
    profile_revision = models.PositiveIntegerField(null=True, blank=True)
    policy_revision = models.PositiveBigIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    params_digest = models.CharField(max_length=64, blank=True)
    approved_params_digest = models.CharField(max_length=64, blank=True)
    # PROTECT: an audited person, runtime or decision cannot be deleted (deactivate or
    # revoke instead), and SET_NULL would be an UPDATE, which the trigger refuses.
    decision = models.ForeignKey(
        "governance.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Every index is paid by every insert; these two would only serve the PROTECT
        # check when a person or runtime is deleted (they are deactivated or revoked).
        # The log's "actor" filter uses the (actor, id) index of the text label.
        db_index=False,
    )
    actor_runtime = models.ForeignKey(
        "governance.AgentRuntime",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # see actor_user
    )
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(
        null=True, blank=True, help_text='{"before": {...}, "after": {...}} for configuration.'
    )
    detail = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(
        max_length=64,
        editable=False,
        help_text="HMAC-SHA256 of the content, keyed with the audit signing key.",
    )
    # When the row was written (timestamp may be earlier, e.g. for a recorded history);
    # sealing waits a margin after this so that a late commit never lands in a sealed range.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # Which fields the content hash covers (HASHED_FIELDS_BY_VERSION). The database default
    # lets bulk loaders that name their columns (bench/audit_bench.py) omit it.
    hash_version = models.PositiveSmallIntegerField(
        default=HASH_VERSION, db_default=HASH_VERSION, editable=False
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # Each filter of the log has an index that ends in id, so that "filter, newest
        # first, 50 rows" walks one index backwards and stops (see README, "Indexes").
        indexes = [
            models.Index(fields=["event_type", "-id"], name="audit_event_type_id"),
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object_id"),
            models.Index(fields=["action", "-id"], name="audit_action_id"),
            models.Index(fields=["on_behalf_of", "-id"], name="audit_on_behalf_of_id"),
            models.Index(fields=["actor", "-id"], name="audit_actor_id"),
            models.Index(fields=["profile", "-id"], name="audit_profile_id"),
            models.Index(fields=["reason", "-id"], name="audit_reason_id"),
            models.Index(fields=["outcome", "-id"], name="audit_outcome_id"),
            models.Index(fields=["request_id"], name="audit_request_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type} {self.action or self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only; an existing event cannot change.")
        if not self.content_hash:
            self.content_hash = self.compute_content_hash()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("audit:event_detail", args=[self.pk])

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only; they cannot be deleted.")

    def content(self) -> dict[str, object] | None:
        """The values the content hash covers, or None for an unknown hash version."""
        return self.hashed_content({name: getattr(self, name) for name in self.HASHED_FIELDS})

    @classmethod
    def hashed_content(cls, values: dict[str, object]) -> dict[str, object] | None:
        """From a row's values (`HASHED_FIELDS` at least), the ones its hash version covers."""
        fields = cls.HASHED_FIELDS_BY_VERSION.get(values["hash_version"])  # type: ignore[arg-type]
        return None if fields is None else {name: values[name] for name in fields}

    def compute_content_hash(self, key: str | None = None) -> str:
        content = self.content()
        if content is None:
            raise ValueError(f"Unknown audit hash version {self.hash_version!r}.")
        return event_content_hash(content, key or settings.AUDIT_SIGNING_KEY)


class AuditSealQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit seals are append-only; they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit seals are append-only; they cannot be deleted.")


class AuditSeal(models.Model):
    """A signed block of the audit log, chained to the one before it (see sealing.py).

    Written only by `audit.seal_services.audit_seal_new_events`; append-only like the events
    (guards here, a trigger on PostgreSQL). Seals outlive purged events, so the chain
    still verifies after retention removed old events."""

    first_event_id = models.BigIntegerField()
    last_event_id = models.BigIntegerField(unique=True)
    event_count = models.PositiveIntegerField()
    id_ranges = models.JSONField(help_text="The exact ids sealed, as [first, last] runs.")
    events_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64, blank=True)
    seal_hash = models.CharField(max_length=64, unique=True)
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    objects = AuditSealQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"seal #{self.pk} (events {self.first_event_id}-{self.last_event_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit seals are append-only; an existing seal cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit seals are append-only; they cannot be deleted.")


class AuditPurge(models.Model):
    """A retention purge: the sealed events up to a seal were removed on purpose.

    Verification checks purged seals for their signature and chain only, so a purge record
    is signed with the audit key (sealing.PurgeBody): a forged one, made to hide deleted
    events, does not verify. On PostgreSQL only the purge role may insert one."""

    through_seal = models.ForeignKey(AuditSeal, on_delete=models.PROTECT, related_name="+")
    before = models.DateTimeField(help_text="Events older than this were eligible.")
    deleted = models.PositiveBigIntegerField()
    actor = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    signature = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"purge #{self.pk} through seal #{self.through_seal_id}"


# ---------------------------------------------------------------------------
# Rollups, tuning and review (the dashboards read these, never the raw tables)


class RollupState(models.Model):
    """The refresh watermark: decisions created or resolved since then are re-counted."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups refreshed at {self.refreshed_at}"


class DecisionRollup(models.Model):
    """How many proposed actions of one kind ended in one category on one day."""

    day = models.DateField()
    category = models.CharField(max_length=10, choices=Category.choices)
    profile = models.CharField(max_length=100)
    action = models.CharField(max_length=100)
    # The connector the action changes, else the connector of its first data source.
    connector = models.CharField(max_length=100, blank=True)
    runtime = models.CharField(max_length=100)
    reason = models.CharField(max_length=60)
    reversible = models.BooleanField(null=True)
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day", "category"]), models.Index(fields=["action", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.action} {self.category}: {self.count}"


class ApprovalTimingRollup(models.Model):
    """How long people took to decide, per approver group and action type and day, as a
    histogram (see audit/rollups.py BUCKETS) so that medians and p90s of any window can be
    computed by adding histograms."""

    day = models.DateField()
    group = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    profile = models.CharField(max_length=100)
    decided = models.PositiveIntegerField()
    within_sla = models.PositiveIntegerField()
    histogram = models.JSONField()
    total_seconds = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["day", "group"])]

    def __str__(self) -> str:
        return f"{self.day} {self.group} {self.action}: {self.decided}"


class Recommendation(models.Model):
    """A tuning recommendation with its evidence; applied or dismissed by an admin."""

    kind = models.CharField(max_length=30, choices=RecommendationKind.choices)
    key = models.CharField(max_length=300, help_text="What it is about, stable between refreshes.")
    title = models.CharField(max_length=300)
    detail = models.TextField()
    evidence = models.JSONField(default=dict)
    change = models.JSONField(
        null=True, blank=True, help_text="The configuration change it proposes."
    )
    status = models.CharField(
        max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.OPEN
    )
    window_days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["status", "kind", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="open"),
                name="recommendation_one_open_per_key",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("audit:recommendation_detail", args=[self.pk])


class QuarterlySignOff(models.Model):
    """A governance admin's sign-off of a quarterly review."""

    quarter = models.CharField(max_length=7, help_text="e.g. 2026-Q4")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.quarter} signed by {self.signed_by}"


class OutboxMessage(models.Model):
    """Work that must happen after a commit and must not be lost (an approver's e-mail):
    written in the same transaction as the change that asks for it, delivered by the
    periodic `deliver_outbox` task, retried with backoff until it succeeds or gives up.

    Nothing slow or external runs on the decision path: it writes one of these instead of
    talking to a broker, so a broker that is down delays notifications, never decisions."""

    topic = models.CharField(max_length=40, choices=OutboxTopic.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The worker's claim: undelivered messages that are due, oldest first.
            models.Index(
                fields=["available_at", "id"],
                name="outbox_due",
                condition=models.Q(delivered_at__isnull=True, failed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"outbox #{self.pk} {self.topic}"


class RefusalTally(models.Model):
    """Refused requests from one source (a client address, for one event type and
    reason) that the audit log does not show yet.

    The first refusal of each minute writes an audit event at once; the others only count
    here, and their count goes into the source's next event (its next minute) or into the
    event `audit_refusals_flush` writes once the minute is over. So an attacker's thousand
    bad requests write a few rows of the permanent log, each with its count, and no count
    is lost: it is a database row, moved into an event in the same transaction. Mutable
    bookkeeping, not evidence; rows are deleted once flushed."""

    event_type = models.CharField(max_length=40, choices=EventType.choices)
    source = models.CharField(max_length=64, help_text="The client's address.")
    reason = models.CharField(max_length=60)
    window_ends_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(
        default=0, help_text="Refusals since the source's last audit event."
    )
    pending_since = models.DateTimeField(null=True, blank=True)
    sample = models.JSONField(default=dict, help_text="The detail of the latest refusal.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "source", "reason"], name="audit_refusal_tally_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.reason} from {self.source}: {self.count}"


class AuditSinkCursor(models.Model):
    """How far one SIEM sink has received the audit log (audit/streaming.py).

    The stream reads the events after `last_event_id` in id order and moves the cursor
    only after the sink acknowledged them, so the decision path writes nothing for the
    sinks (no outbox row per event) and a sink that is down loses nothing: it catches up
    from its cursor. Mutable bookkeeping, not evidence. One row per configured sink
    name (AUDIT_SINKS), created when the stream first runs; a row whose sink left the
    configuration stays, so its position is kept should it come back."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=SinkKind.choices)
    target = models.CharField(
        max_length=500, blank=True, help_text="Where it sends, without credentials."
    )
    last_event_id = models.BigIntegerField(
        default=0, help_text="Every event up to this id was acknowledged by the sink."
    )
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    delivered = models.PositiveBigIntegerField(
        default=0, help_text="Events acknowledged in total (repeats included)."
    )
    failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts since the last success."
    )
    last_error = models.TextField(blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker streaming to this sink now (claim by conditional update):
    # two workers never send the same batch at once, and no transaction stays open while
    # a sink answers (on SQLite that would hold the write lock the decision path needs).
    lease_token = models.CharField(max_length=36, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"sink {self.name} at event #{self.last_event_id}"
