"""FilterSets of the policy domain: one per listed model, shared by the pages and the API."""

import django_filters
from django import forms
from django.contrib.auth.models import Group
from django.db.models import Q

from catalog.models import CatalogItem
from governance.choices import Access, DecisionStatus, Impact, Outcome, ProfileStatus, ReasonCode
from governance.identity import email_key
from governance.models import ActionType, AgentRuntime, Decision, PermissionProfile, ProfileGrant

# The browser's own date-time picker; its value (2026-11-24T09:30) is ISO 8601.
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"})


class ActionTypeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    impact = django_filters.MultipleChoiceFilter(choices=Impact.choices)
    reversible = django_filters.BooleanFilter()
    auto_execute = django_filters.BooleanFilter(label="On the allow-list")
    approver_group_id = django_filters.ModelChoiceFilter(
        field_name="approver_group", queryset=Group.objects.all(), label="Approver group"
    )

    class Meta:
        model = ActionType
        fields = ["q", "impact", "reversible", "auto_execute", "approver_group_id"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(key__icontains=value) | Q(name__icontains=value))


class ProfileFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ProfileStatus.choices)
    owner_id = django_filters.NumberFilter(field_name="owner")
    connector_id = django_filters.ModelChoiceFilter(
        field_name="grants__connector",
        queryset=CatalogItem.objects.connectors(),
        label="Grants access to",
        distinct=True,
    )

    class Meta:
        model = PermissionProfile
        fields = ["q", "status", "owner_id", "connector_id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(slug__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value)
        )


class GrantFilterSet(django_filters.FilterSet):
    profile_id = django_filters.NumberFilter(field_name="profile")
    profile = django_filters.CharFilter(field_name="profile__slug")
    connector_id = django_filters.NumberFilter(field_name="connector")
    connector = django_filters.CharFilter(field_name="connector__slug")
    access = django_filters.ChoiceFilter(choices=Access.choices)

    class Meta:
        model = ProfileGrant
        fields = ["profile_id", "profile", "connector_id", "connector", "access"]


class RuntimeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    active = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", label="Active"
    )
    profile_id = django_filters.NumberFilter(field_name="profiles")

    class Meta:
        model = AgentRuntime
        fields = ["q", "active", "profile_id"]


class DecisionFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DecisionStatus.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    reason = django_filters.ChoiceFilter(choices=ReasonCode.choices)
    action = django_filters.CharFilter(label="Action type")
    profile = django_filters.CharFilter(field_name="profile_slug", label="Profile")
    on_behalf_of = django_filters.CharFilter(
        method="filter_on_behalf_of", label="On behalf of (e-mail)"
    )
    runtime_id = django_filters.ModelChoiceFilter(
        field_name="runtime", queryset=AgentRuntime.objects.all(), label="Runtime"
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="From", widget=DATETIME_INPUT
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Until", widget=DATETIME_INPUT
    )

    class Meta:
        model = Decision
        fields = [
            "status",
            "outcome",
            "reason",
            "action",
            "profile",
            "on_behalf_of",
            "runtime_id",
            "created_after",
            "created_before",
        ]

    def filter_on_behalf_of(self, queryset, name, value):
        """People are stored by their canonical address (identity.email_key)."""
        return queryset.filter(on_behalf_of=email_key(value))
