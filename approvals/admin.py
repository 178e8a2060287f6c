from django.contrib import admin

from approvals.models import (
    ApprovalDelegation,
    ApprovalRequest,
    ApprovalVote,
    WebhookAttempt,
    WebhookDelivery,
)
from governance.admin_base import ReadOnlyModelAdmin


class ApprovalVoteInline(admin.TabularInline):
    model = ApprovalVote
    extra = 0
    can_delete = False
    readonly_fields = [
        "voter",
        "verdict",
        "comment",
        "edited_params",
        "params_digest",
        "created_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "decision",
        "group",
        "status",
        "approvals_needed",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", "group"]
    search_fields = ["decision__action", "decision__on_behalf_of", "decision__request_id"]
    inlines = [ApprovalVoteInline]


@admin.register(ApprovalVote)
class ApprovalVoteAdmin(ReadOnlyModelAdmin):
    list_display = ["request", "voter", "verdict", "created_at"]
    list_filter = ["verdict"]
    search_fields = ["voter__email", "comment"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "attempted_at", "status_code", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "runtime",
        "decision",
        "url",
        "status",
        "attempts",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["status", "runtime"]
    search_fields = ["url", "decision__request_id"]
    inlines = [WebhookAttemptInline]


@admin.register(ApprovalDelegation)
class ApprovalDelegationAdmin(ReadOnlyModelAdmin):
    """Read-only: stand-ins are named and ended on the Out of office page (audited)."""

    list_display = ["delegator", "stand_in", "starts_on", "ends_on", "ended_at", "created_at"]
    list_filter = ["starts_on", "ends_on"]
    search_fields = ["delegator__email", "stand_in__email"]
