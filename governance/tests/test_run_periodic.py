"""manage.py run_periodic: the beat schedule's work without a broker (what `make demo` runs
beside the web server)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from audit.models import AuditSeal, RollupState
from governance.management.commands.run_periodic import run_due, schedule_entries

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_once_seals_the_log_refreshes_the_rollups_and_expires_what_is_due(make_pending):
    with time_machine.travel(NOW, tick=False):
        pending = make_pending("send")  # expires after 4 hours
    out = StringIO()
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        call_command("run_periodic", "--once", stdout=out)
    pending.refresh_from_db()
    assert pending.status == "expired"
    assert AuditSeal.objects.exists()
    assert RollupState.objects.get().refreshed_at == NOW + timedelta(hours=5)
    assert "[periodic] expire-approvals: 1" in out.getvalue()


def test_each_task_runs_on_its_own_interval():
    entries = schedule_entries(
        {
            "every-minute": {"task": "a", "schedule": 60.0},
            "every-five": {"task": "b", "schedule": timedelta(minutes=5)},
        }
    )
    ran = []

    def at(seconds):
        with time_machine.travel(NOW + timedelta(seconds=seconds), tick=False):
            return run_due(
                entries, now=NOW + timedelta(seconds=seconds), run=lambda e: ran.append(e.name)
            )

    assert at(0) == pytest.approx(60) and ran == ["every-minute", "every-five"]
    ran.clear()
    assert at(30) == pytest.approx(30) and ran == []
    assert at(61) == pytest.approx(60) and ran == ["every-minute"]
    ran.clear()
    at(301)
    assert ran == ["every-minute", "every-five"]
