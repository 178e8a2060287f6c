"""Factories of the policy domain (factory_boy).

They write through the ORM, not the services, to build test situations quickly; they
bump the policy revision afterwards, as every real configuration change does, so that
the cached policy snapshot is rebuilt."""

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from audit.sealing import digest
from governance.choices import DecisionStatus, Impact, ProfileStatus
from governance.models import (
    ActionType,
    AgentRuntime,
    Decision,
    PermissionProfile,
    ProfileGrant,
    User,
)
from governance.services import policy_revision_bump
from governance.tokens import RUNTIME_TOKEN, token_issue


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = super()._create(model_class, *args, **kwargs)
        policy_revision_bump()
        return obj


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@corp.example")
    first_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([GroupFactory(name=name) for name in extracted])
        if create:
            self.save()


class ActionTypeFactory(PolicyFactory):
    class Meta:
        model = ActionType

    key = factory.Sequence(lambda n: f"thing.act_{n}")
    name = factory.LazyAttribute(lambda o: o.key)
    impact = Impact.LOW
    reversible = True
    auto_execute = True


class PermissionProfileFactory(PolicyFactory):
    class Meta:
        model = PermissionProfile
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"profile-{n}")
    name = factory.LazyAttribute(lambda o: o.slug)
    status = ProfileStatus.ACTIVE
    action_types = factory.LazyFunction(list)

    @factory.post_generation
    def launcher_groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.launcher_groups.set([GroupFactory(name=name) for name in extracted])
            policy_revision_bump()

    @factory.post_generation
    def plugins(self, create, extracted, **kwargs):
        if create and extracted:
            self.plugins.set(extracted)
            policy_revision_bump()


class ProfileGrantFactory(PolicyFactory):
    class Meta:
        model = ProfileGrant

    profile = factory.SubFactory(PermissionProfileFactory)
    connector = factory.SubFactory("catalog.tests.factories.CatalogItemFactory")
    resources = factory.LazyFunction(lambda: ["*"])
    access = "read"


class AgentRuntimeFactory(PolicyFactory):
    """A runtime; its plaintext token is on `.token` for the test to use."""

    class Meta:
        model = AgentRuntime
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"runtime-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        issued = token_issue(RUNTIME_TOKEN)
        kwargs.update(token_hash=issued.hash, token_prefix=issued.prefix)
        runtime = super()._create(model_class, *args, **kwargs)
        runtime.token = issued.plaintext
        return runtime

    @factory.post_generation
    def profiles(self, create, extracted, **kwargs):
        if create and extracted:
            self.profiles.set(extracted)
            policy_revision_bump()


class DecisionFactory(factory.django.DjangoModelFactory):
    """A decision as the engine would have stored it, without going through the engine:
    by default a high-impact e-mail waiting for a person, on behalf of a sales rep."""

    class Meta:
        model = Decision

    runtime = factory.SubFactory(AgentRuntimeFactory)
    request_id = factory.Sequence(lambda n: f"request-{n}")
    request_fingerprint = factory.LazyAttribute(lambda o: digest({"request": o.request_id}))
    on_behalf_of_user = factory.SubFactory(UserFactory, groups=["Sales"])
    on_behalf_of = factory.LazyAttribute(
        lambda o: o.on_behalf_of_user.email_key if o.on_behalf_of_user else "someone@corp.example"
    )
    profile_slug = "sales"
    action = "mail.send_external"
    connector = "mail"
    data_sources = factory.LazyFunction(lambda: ["mail:outbox/1"])
    params = factory.LazyFunction(lambda: {"to": "buyer@customer.example", "body": "20% off"})
    params_digest = factory.LazyAttribute(lambda o: digest(o.params))
    outcome = "pending"
    status = DecisionStatus.PENDING
    reason = "high_impact_or_irreversible"
    message = "A person decides."
    impact = Impact.HIGH
    reversible = False
    policy_revision = 1
    created_at = factory.LazyFunction(timezone.now)
