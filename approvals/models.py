"""Human approvals of pending decisions."""

from datetime import date

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse

from approvals.choices import ApprovalStatus, DeliveryStatus, Verdict

# The longest comment or reject reason a person may write: said in the form, refused
# beyond it with a message (never cut silently).
COMMENT_MAX_LENGTH = 2000


class ApprovalRequestQuerySet(models.QuerySet):
    def pending(self) -> "ApprovalRequestQuerySet":
        return self.filter(status=ApprovalStatus.PENDING)


class ApprovalRequest(models.Model):
    """The human side of one pending decision: routed to an approver group, needing a
    number of distinct approvals before it expires."""

    decision = models.OneToOneField(
        "governance.Decision", on_delete=models.PROTECT, related_name="approval_request"
    )
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="approval_requests")
    escalation_group = models.ForeignKey(
        Group, on_delete=models.PROTECT, null=True, blank=True, related_name="escalated_approvals"
    )
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    sla_due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["expires_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"approval #{self.pk} of {self.decision.action}"

    def get_absolute_url(self) -> str:
        return reverse("approvals:approval_request_detail", args=[self.pk])


class ApprovalVote(models.Model):
    """One approver's verdict on an approval request (at most one per approver)."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_votes"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    comment = models.TextField(blank=True)
    edited_params = models.JSONField(null=True, blank=True)
    # The digest of the params this vote approved: after an edit, earlier approvals of
    # other params no longer count towards the approvals needed.
    params_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "voter"], name="approval_vote_once_per_voter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.voter} {self.verdict}d #{self.request_id}"


class ApprovalDelegationQuerySet(models.QuerySet):
    def active_on(self, day: date) -> "ApprovalDelegationQuerySet":
        """Delegations in force on `day` (both ends included) and not ended early."""
        return self.filter(starts_on__lte=day, ends_on__gte=day, ended_at__isnull=True)


class ApprovalDelegation(models.Model):
    """An approver's stand-in for a date range (out of office): while it is in force,
    requests routed to the approver's groups reach the stand-in too, who may decide them
    under the ordinary rules (never a request made on the stand-in's own behalf).

    Not transitive: a stand-in's own stand-in does not inherit the delegation."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given"
    )
    stand_in = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_received"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The last day the stand-in decides (included).")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApprovalDelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["stand_in", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="approval_delegation_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(delegator=models.F("stand_in")),
                name="approval_delegation_not_to_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stand_in} stands in for {self.delegator}, {self.starts_on}–{self.ends_on}"


class WebhookDelivery(models.Model):
    """One signed webhook telling a runtime that a decision was resolved; every attempt to
    deliver it is kept, so admins can see what the agent was told and when."""

    decision = models.ForeignKey(
        "governance.Decision", on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    runtime = models.ForeignKey(
        "governance.AgentRuntime", on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    url = models.URLField(max_length=500)
    event = models.CharField(max_length=50, default="decision.resolved")
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} for {self.runtime} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a webhook delivery."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
