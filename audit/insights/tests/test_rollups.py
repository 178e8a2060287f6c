"""Rollups: equal to a recomputation from the decisions, incremental, idempotent."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.insights.rollups import BUCKETS, category_of, percentile, rollups_refresh
from audit.insights.tests.scenarios import approve_all
from audit.models import DecisionRollup
from governance.models import Decision

pytestmark = pytest.mark.django_db


def direct_counts() -> Counter:
    counts = Counter()
    for d in Decision.objects.all():
        counts[(category_of(d.outcome, d.status, d.approval), d.action)] += 1
    return counts


def rollup_counts() -> Counter:
    counts = Counter()
    for row in DecisionRollup.objects.all():
        counts[(row.category, row.action)] += row.count
    return counts


def test_rollups_equal_a_direct_recomputation(history):
    rollups_refresh(full=True)
    assert rollup_counts() == direct_counts()
    assert rollup_counts()[("approved", "crm.update_record")] == 4
    assert rollup_counts()[("expired", "mail.send_external")] == 1


def test_incremental_refresh_catches_later_resolutions_and_is_idempotent(history, approver):
    rollups_refresh(full=True)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        approve_all(approver, "mail.send_external")
        rollups_refresh()
    assert rollup_counts() == direct_counts()
    assert rollup_counts()[("pending", "mail.send_external")] == 0
    rows = sorted(DecisionRollup.objects.values_list("day", "category", "action", "count"))
    rollups_refresh()
    rollups_refresh(full=True)
    assert sorted(DecisionRollup.objects.values_list("day", "category", "action", "count")) == rows


def test_percentiles_come_from_histogram_buckets():
    histogram = [0] * (len(BUCKETS) + 1)
    histogram[1] = 5  # five decisions between 1 and 2 minutes
    histogram[4] = 5  # five between 10 and 20 minutes
    assert percentile(histogram, 0.5) == 120
    assert percentile(histogram, 0.9) == 1200
    assert percentile([0] * (len(BUCKETS) + 1), 0.5) is None
