"""System checks of the audit log's configuration (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def witness_configured(app_configs, **kwargs):
    """Without a witness, deleting the newest seals and their events cannot be detected."""
    if settings.AUDIT_WITNESS_PATH:
        return []
    return [
        Warning(
            "AUDIT_WITNESS_PATH is not set: each seal's hash is written only to the "
            "database, so deleting the newest seals (and the events they cover) would go "
            "unnoticed.",
            hint="Set AUDIT_WITNESS_PATH to a file the database's users cannot rewrite "
            "(README, 'Tamper evidence').",
            id="audit.W001",
        )
    ]


@register()
def sinks_configured(app_configs, **kwargs):
    """A sink the console cannot use is named at start-up, not at the first delivery."""
    from audit.sinks import SinkConfigError, sinks_parse

    try:
        sinks_parse(settings.AUDIT_SINKS)
    except SinkConfigError as error:
        return [Error(str(error), hint="README, 'Audit streaming to a SIEM'.", id="audit.E001")]
    return []
