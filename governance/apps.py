from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance policy"

    def ready(self) -> None:
        from governance.api import schema  # noqa: F401  (registers the OpenAPI extension)
