"""Personal API tokens: printed once, stored hashed, revocable, audited."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from governance.exceptions import Conflict, PermissionDenied
from governance.models import UserToken
from governance.services import user_token_create, user_token_revoke
from governance.tokens import token_hash

pytestmark = pytest.mark.django_db


def test_command_prints_the_token_once_and_stores_its_hash(approver):
    out, err = StringIO(), StringIO()
    call_command("create_user_token", "alex", "--name", "slack-bot", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert token.startswith("agc_ut_")
    stored = UserToken.objects.get(user=approver)
    assert stored.token_hash == token_hash(token)
    assert "once" in err.getvalue()
    assert AuditEvent.objects.filter(event_type="user_token_issued").count() == 1
    assert token not in str(AuditEvent.objects.values().get(event_type="user_token_issued"))


def test_command_lists_and_revokes(approver):
    call_command("create_user_token", "alex", stdout=StringIO(), stderr=StringIO())
    prefix = UserToken.objects.get().token_prefix
    out = StringIO()
    call_command("create_user_token", "alex", "--list", stdout=out)
    assert prefix in out.getvalue() and "active" in out.getvalue()
    call_command("create_user_token", "alex", "--revoke", prefix, stderr=StringIO())
    assert UserToken.objects.get().revoked_at is not None


def test_command_refuses_unknown_people_and_prefixes(approver):
    with pytest.raises(CommandError, match="No user"):
        call_command("create_user_token", "nobody")
    with pytest.raises(CommandError, match="no token"):
        call_command("create_user_token", "alex", "--revoke", "agc_ut_zzz")


def test_nobody_issues_a_token_for_someone_else_but_admins(
    approver, second_approver, governance_admin
):
    with pytest.raises(PermissionDenied):
        user_token_create(approver, actor=second_approver, name="x")
    user_token_create(approver, actor=governance_admin, name="x")


def test_revoking_twice_is_refused(approver):
    token, _ = user_token_create(approver, actor=approver, name="x")
    user_token_revoke(token, actor=approver)
    with pytest.raises(Conflict):
        user_token_revoke(token, actor=approver)
