"""The audit log's filters: one FilterSet for the page, the API list and the exports.

Every parameter works in a shared URL, e.g.
/audit/?action=mail.send_external&approver=alex@corp.example&after=2026-10-01"""

from datetime import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.choices import EventType
from audit.models import AuditEvent
from governance.choices import ReasonCode
from governance.identity import email_key
from governance.shadow import WOULD, WOULD_LABELS, ConditionRef, shadow_decisions


def validate_condition_ref(value: str) -> None:
    try:
        ConditionRef.parse(value)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from error


class LocalDateTimeInput(forms.DateTimeInput):
    """A datetime-local field that shows any ISO 8601 value it is given, in local time.

    Links from the dashboards carry full ISO timestamps with an offset
    (2026-11-01T00:00:00+00:00), which a browser's datetime-local field cannot show: the
    field stayed blank and the next search dropped the filter. Shown as local time
    without offset, the value is visible, editable, and sent back unchanged in meaning."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        # step=1: a value with seconds is valid as it stands (no "step mismatch").
        super().__init__(attrs={"step": "1", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, str):
            value = parse_datetime(value.strip()) or value
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
        return super().format_value(value)


DATETIME_INPUT = LocalDateTimeInput()


class AnyYesNoWidget(django_filters.widgets.BooleanWidget):
    """Yes, no, or any (no filter), rather than django-filter's "Unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", "Any"), ("true", "Yes"), ("false", "No"))


APPROVAL_KINDS = [("auto", "Automatic (allow-list)"), ("human", "By a person"), ("none", "None")]
OUTCOMES = [
    (value, value)
    for value in (
        "allow",
        "deny",
        "pending",
        "approve",
        "reject",
        "approved",
        "rejected",
        "expired",
        "escalated",
        "executed",
        "failed",
        "skipped",
    )
]


class UUIDInFilter(django_filters.BaseInFilter, django_filters.UUIDFilter):
    """Several UUIDs, separated by commas."""


class AuditEventFilterSet(django_filters.FilterSet):
    after = django_filters.IsoDateTimeFilter(
        field_name="timestamp", lookup_expr="gte", label="From", widget=DATETIME_INPUT
    )
    before = django_filters.IsoDateTimeFilter(
        field_name="timestamp", lookup_expr="lt", label="Until", widget=DATETIME_INPUT
    )
    event_type = django_filters.MultipleChoiceFilter(choices=EventType.choices, label="Event type")
    actor = django_filters.CharFilter(label="Actor (user:… or runtime:…)")
    runtime = django_filters.CharFilter(method="filter_runtime", label="Runtime")
    on_behalf_of = django_filters.CharFilter(method="filter_on_behalf_of", label="On behalf of")
    action = django_filters.CharFilter(label="Action type")
    # Exactly these decisions (the policy editor's preview links to the ones it would change).
    decision = UUIDInFilter(field_name="decision_id", label="Decision ids")
    outcome = django_filters.MultipleChoiceFilter(choices=OUTCOMES)
    approval = django_filters.ChoiceFilter(
        choices=APPROVAL_KINDS, method="filter_approval", label="Approval"
    )
    approver = django_filters.CharFilter(method="filter_approver", label="Approver (e-mail)")
    profile = django_filters.CharFilter()
    connector = django_filters.CharFilter(method="filter_connector", label="Connector")
    plugin = django_filters.CharFilter(
        method="filter_plugin", label="Plugin (slug or slug@version)"
    )
    model = django_filters.CharFilter()
    reason = django_filters.ChoiceFilter(choices=ReasonCode.choices, label="Reason code")
    reversible = django_filters.BooleanFilter(label="Reversible action", widget=AnyYesNoWidget)
    approval_group = django_filters.CharFilter(
        field_name="decision__approval_request__group__name", label="Approver group"
    )
    decided_after = django_filters.IsoDateTimeFilter(
        field_name="decision__created_at",
        lookup_expr="gte",
        label="Proposed from",
        widget=DATETIME_INPUT,
    )
    decided_before = django_filters.IsoDateTimeFilter(
        field_name="decision__created_at",
        lookup_expr="lt",
        label="Proposed until",
        widget=DATETIME_INPUT,
    )
    q = django_filters.CharFilter(method="filter_request_id", label="Request id")
    condition = django_filters.CharFilter(
        method="filter_condition",
        label="Condition (action_type:<key>:<name> or profile:<slug>:<name>)",
        validators=[validate_condition_ref],
    )
    condition_would = django_filters.ChoiceFilter(
        choices=[(w, WOULD_LABELS[w]) for w in WOULD],
        method="filter_nothing",
        label="What the condition, enforced, would have done",
    )

    class Meta:
        model = AuditEvent
        fields = [
            "after",
            "before",
            "event_type",
            "actor",
            "runtime",
            "on_behalf_of",
            "action",
            "decision",
            "outcome",
            "approval",
            "approver",
            "profile",
            "connector",
            "plugin",
            "model",
            "reason",
            "reversible",
            "approval_group",
            "decided_after",
            "decided_before",
            "q",
            "condition",
            "condition_would",
        ]

    def filter_on_behalf_of(self, queryset, name, value):
        """E-mails are stored canonical (identity.email_key), so an exact match uses the index."""
        return queryset.filter(on_behalf_of=email_key(value))

    def filter_runtime(self, queryset, name, value):
        return queryset.filter(actor=f"runtime:{value}")

    def filter_approval(self, queryset, name, value):
        if value == "auto":
            return queryset.filter(approval="auto")
        if value == "human":
            return queryset.filter(approval__startswith="human:")
        return queryset.filter(Q(approval__isnull=True) | Q(approval=""))

    def filter_approver(self, queryset, name, value):
        """Events whose approval names this person (one of the approvers of a two-person
        approval too)."""
        return queryset.filter(approval__startswith="human:", approval__icontains=value.strip())

    def filter_connector(self, queryset, name, value):
        """Events about this connector: it was changed, or one of its data was touched."""
        return queryset.filter(
            Q(decision__connector=value) | Q(data_sources__icontains=f'"{value}:')
        )

    def filter_plugin(self, queryset, name, value):
        if "@" in value:
            return queryset.filter(plugin=value)
        return queryset.filter(plugin__startswith=f"{value}@")

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.form.cleaned_data if valid else {}
        if data.get("condition_would") and not data.get("condition"):
            # Alone it would filter nothing: refused rather than silently dropped.
            self.form.add_error("condition_would", "Name the condition too (condition=…).")
            return False
        return valid

    def filter_condition(self, queryset, name, value):
        """Events of the decisions on which the condition held (or failed) and so would
        have had an effect; with `condition_would`, only those it would have denied, sent
        to a person or allowed (governance/shadow.py, as the shadow page counts them). The
        scan is bounded by the proposal window when `decided_after`/`decided_before` are
        given, as the shadow page's links do."""
        data = self.form.cleaned_data
        would = data.get("condition_would") or None
        rows = shadow_decisions(
            ConditionRef.parse(value),
            start=data.get("decided_after"),
            end=data.get("decided_before"),
        )
        ids = [row.decision_id for row in rows if would is None or row.would == would]
        return queryset.filter(decision_id__in=ids)

    def filter_nothing(self, queryset, name, value):
        """Read by filter_condition (a refinement of it, meaningless alone)."""
        return queryset

    def filter_request_id(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(request_id=value) | Q(correlation_id=value))


class StrictAuditEventFilterSet(AuditEventFilterSet):
    """The filters of the API and the exports: an unknown parameter (a typo such as
    `acton=`) is refused with 400 rather than answered with the whole log."""

    # Parameters that are not filters but are read by the list or the export itself.
    NON_FILTERS = frozenset({"cursor", "page_size", "format"})

    def is_valid(self) -> bool:
        valid = super().is_valid()
        unknown = sorted(set(self.data) - set(self.filters) - self.NON_FILTERS)
        if unknown:
            known = ", ".join(sorted(self.filters))
            self.form.add_error(
                None, f"Unknown filter: {', '.join(unknown)}. The filters are: {known}."
            )
            return False
        return valid
