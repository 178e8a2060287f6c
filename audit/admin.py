from django.contrib import admin

from audit.models import AuditEvent
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
