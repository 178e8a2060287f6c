"""The inbox filters, shared by the pages and GET /api/v1/approvals."""

from datetime import timedelta

import django_filters
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals.choices import AgeBucket, ApprovalStatus
from approvals.models import ApprovalRequest
from governance.choices import Impact
from governance.identity import email_key

AGES = {
    AgeBucket.HOUR: timedelta(hours=1),
    AgeBucket.FOUR_HOURS: timedelta(hours=4),
    AgeBucket.DAY: timedelta(days=1),
}


class ApprovalRequestFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(field_name="decision__action", label="Action type")
    impact = django_filters.MultipleChoiceFilter(
        field_name="decision__impact", choices=Impact.choices, label="Impact"
    )
    profile = django_filters.CharFilter(field_name="decision__profile_slug", label="Profile")
    connector = django_filters.CharFilter(method="filter_connector", label="Connector")
    requester = django_filters.CharFilter(
        field_name="decision__on_behalf_of",
        method="filter_on_behalf_of",
        label="On behalf of (e-mail)",
    )
    age = django_filters.ChoiceFilter(
        choices=AgeBucket.choices, method="filter_age", label="Waiting"
    )
    status = django_filters.MultipleChoiceFilter(choices=ApprovalStatus.choices)
    group_id = django_filters.ModelChoiceFilter(
        field_name="group", queryset=Group.objects.all(), label="Approver group"
    )

    class Meta:
        model = ApprovalRequest
        fields = [
            "action",
            "impact",
            "profile",
            "connector",
            "requester",
            "age",
            "status",
            "group_id",
        ]

    def filter_connector(self, queryset, name, value):
        """The connector the action changes, or the connector of one of its data sources."""
        by_sources = queryset.filter(decision__data_sources__icontains=f'"{value}:')
        return queryset.filter(decision__connector=value) | by_sources

    def filter_on_behalf_of(self, queryset, name, value):
        """People are filtered by their canonical address (identity.email_key)."""
        return queryset.filter(**{name: email_key(value)})

    def filter_age(self, queryset, name, value):
        return queryset.filter(created_at__lte=timezone.now() - AGES[value])
