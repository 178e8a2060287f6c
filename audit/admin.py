from django.contrib import admin

from audit.models import AuditEvent, AuditPurge, AuditSeal
from governance.admin_base import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = [
        "id",
        "timestamp",
        "event_type",
        "actor",
        "on_behalf_of",
        "action",
        "outcome",
        "reason",
    ]
    list_filter = ["event_type", "outcome"]
    search_fields = ["request_id", "actor", "on_behalf_of", "action", "object_repr"]
    date_hierarchy = "timestamp"
    show_full_result_count = False


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "first_event_id", "last_event_id", "event_count", "created_at"]


@admin.register(AuditPurge)
class AuditPurgeAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "through_seal", "before", "deleted", "actor", "created_at"]
