"""Management commands of the policy domain."""

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from governance.models import AgentRuntime, Decision, User
from governance.tokens import token_hash

pytestmark = pytest.mark.django_db


def test_create_runtime_prints_the_token_once_and_stores_its_hash(policy):
    out, err = StringIO(), StringIO()
    call_command("create_runtime", "ops-agent", "--profiles", "sales", stdout=out, stderr=err)
    token = out.getvalue().strip()
    runtime = AgentRuntime.objects.get(name="ops-agent")
    assert runtime.token_hash == token_hash(token)
    assert [p.slug for p in runtime.profiles.all()] == ["sales"]
    assert "once" in err.getvalue()


def test_create_runtime_refuses_unknown_profiles(policy):
    with pytest.raises(CommandError, match="Unknown profile"):
        call_command("create_runtime", "ops-agent", "--profiles", "sales,nope")


def test_create_runtime_refuses_a_taken_name(policy):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_runtime", "sales-agent", stdout=StringIO(), stderr=StringIO())


# A Thursday: the three days of history before it are working days (the demo has no
# traffic at weekends), whatever day the suite runs on.
@time_machine.travel("2026-11-26T15:00:00Z", tick=False)
def test_seed_demo_builds_an_organisation_through_the_engine(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", "--days", "3", "--per-day", "12", "--quiet", stdout=out)
    assert User.objects.filter(groups__name="Approvers").count() >= 2
    statuses = set(Decision.objects.values_list("status", flat=True))
    assert {"executed", "denied", "pending"} <= statuses
    assert "gina" in out.getvalue()
    # Running it again does not duplicate anything.
    count = Decision.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert Decision.objects.count() == count
