from rest_framework import serializers

from audit.models import AuditEvent
from audit.selectors import EXPORT_FIELDS


class AuditEventSerializer(serializers.ModelSerializer):
    """An audit event, its record fields first (the export's order)."""

    class Meta:
        model = AuditEvent
        fields = list(EXPORT_FIELDS)
        read_only_fields = fields
