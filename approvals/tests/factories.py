"""Factories of the approval workflow (factory_boy): requests and stand-ins written
through the ORM, without the decision engine or the API, for fast tests of the rules."""

from datetime import timedelta

import factory
from django.utils import timezone

from approvals.models import ApprovalDelegation, ApprovalRequest
from governance.tests.factories import DecisionFactory, GroupFactory, UserFactory


class ApprovalRequestFactory(factory.django.DjangoModelFactory):
    """A pending request routed to `group`, needing one approval, open for four hours
    (SLA after two)."""

    class Meta:
        model = ApprovalRequest

    decision = factory.SubFactory(DecisionFactory)
    group = factory.SubFactory(GroupFactory, name="Approvers")
    approvals_needed = 1
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=4))
    sla_due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=2))


class ApprovalDelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalDelegation

    delegator = factory.SubFactory(UserFactory)
    stand_in = factory.SubFactory(UserFactory)
    starts_on = factory.LazyFunction(timezone.localdate)
    ends_on = factory.LazyAttribute(lambda o: o.starts_on)
    created_at = factory.LazyFunction(timezone.now)
