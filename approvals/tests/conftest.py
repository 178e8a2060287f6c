"""Approval fixtures live in governance/tests/fixtures.py (make_pending, pending), shared
with the audit tests."""

import pytest

from governance.choices import Role
from governance.tests.factories import GroupFactory, UserFactory

# The people and groups of the factory-built requests (test_permissions.py,
# test_services_vote_rules.py).


@pytest.fixture
def approvers():
    return GroupFactory(name="Mail approvers")


@pytest.fixture
def managers():
    """The escalation group of the request."""
    return GroupFactory(name="Managers")


@pytest.fixture
def sam():
    """The sales rep on whose behalf the agent acts."""
    return UserFactory(username="sam", groups=["Sales"])


@pytest.fixture
def alex(approvers):
    return UserFactory(username="alex", groups=[Role.APPROVER.value, "Mail approvers"])
