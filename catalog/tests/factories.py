"""Factories of catalog items and versions."""

import factory

from catalog.choices import ItemKind, ItemStatus, VersionReviewState
from catalog.models import CatalogItem, CatalogVersion
from governance.tests.factories import PolicyFactory


class CatalogItemFactory(PolicyFactory):
    class Meta:
        model = CatalogItem

    slug = factory.Sequence(lambda n: f"item-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    kind = ItemKind.CONNECTOR
    status = ItemStatus.APPROVED
    data_classes = factory.LazyFunction(lambda: ["internal"])


class CatalogVersionFactory(PolicyFactory):
    class Meta:
        model = CatalogVersion

    item = factory.SubFactory(CatalogItemFactory)
    version = factory.Sequence(lambda n: f"1.{n}.0")
    review_state = VersionReviewState.APPROVED
    is_pinned = False
