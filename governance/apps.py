from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance policy"

    def ready(self) -> None:
        from governance import signals  # noqa: F401  (policy cache invalidation)
        from governance.api import schema  # noqa: F401  (registers the OpenAPI extension)
