"""Catalog filters, shared by the pages and the API."""

import django_filters
from django.contrib.auth.models import Group
from django.db.models import Q

from catalog.choices import DataClass, IntakeKind, IntakeState, ItemKind, ItemStatus, Reach
from catalog.models import CatalogItem, IntakeRequest
from governance.models import User


class CatalogItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    kind = django_filters.MultipleChoiceFilter(choices=ItemKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ItemStatus.choices)
    data_class = django_filters.ChoiceFilter(
        choices=DataClass.choices, method="filter_data_class", label="Data class"
    )
    reach = django_filters.ChoiceFilter(choices=Reach.choices)
    owner_id = django_filters.ModelChoiceFilter(
        field_name="owner",
        queryset=User.objects.filter(owned_catalog_items__isnull=False).distinct(),
        label="Owner",
    )
    owning_group_id = django_filters.ModelChoiceFilter(
        field_name="owning_group",
        queryset=Group.objects.filter(owned_catalog_items__isnull=False).distinct(),
        label="Owning group",
    )

    class Meta:
        model = CatalogItem
        fields = ["q", "kind", "status", "data_class", "reach", "owner_id", "owning_group_id"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(slug__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value)
            | Q(vendor__icontains=value)
        )  # fmt: skip

    def filter_data_class(self, queryset, name, value):
        return queryset.filter(data_classes__icontains=f'"{value}"')


class IntakeRequestFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=IntakeState.choices)
    kind = django_filters.ChoiceFilter(choices=IntakeKind.choices)
    item = django_filters.CharFilter(method="filter_item", label="Item (slug)")

    class Meta:
        model = IntakeRequest
        fields = ["state", "kind", "item"]

    def filter_item(self, queryset, name, value):
        return queryset.filter(Q(item__slug=value) | Q(slug=value))
