"""The role groups of DESIGN.md and the model permissions each one carries.

Used by data migrations (with the historical app registry), so that a fresh database
has the groups and their permissions; a later migration calls `role_groups_sync` again
when new models need permissions."""

from governance.choices import Role

VIEW = ("view",)
ALL = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.GOVERNANCE_ADMIN.value: {
        "governance.actiontype": ALL,
        "governance.permissionprofile": ALL,
        "governance.profilegrant": ALL,
        "governance.toolmapping": ALL,
        "governance.agentruntime": ("change", "view"),
        "governance.decision": VIEW,
        "governance.policyrevision": VIEW,
        "governance.user": ("change", "view"),
        "auth.group": VIEW,
        "catalog.catalogitem": ("add", "change", "view"),
        "catalog.catalogversion": VIEW,
        "catalog.intakerequest": VIEW,
        "catalog.intakereview": VIEW,
        "approvals.approvalrequest": VIEW,
        "approvals.approvalvote": VIEW,
        "approvals.webhookdelivery": VIEW,
        "approvals.webhookattempt": VIEW,
        "governance.usertoken": ("view", "delete"),
        "audit.auditevent": VIEW,
    },
    Role.CONNECTOR_OWNER.value: {
        "catalog.catalogitem": VIEW,
        "catalog.catalogversion": VIEW,
        "catalog.intakerequest": VIEW,
        "catalog.intakereview": VIEW,
    },
    Role.APPROVER.value: {
        "governance.decision": VIEW,
        "approvals.approvalrequest": VIEW,
        "approvals.approvalvote": VIEW,
    },
    Role.LEADERSHIP.value: {
        "governance.decision": VIEW,
        "audit.auditevent": VIEW,
    },
    Role.AUDITOR.value: {
        "governance.actiontype": VIEW,
        "governance.toolmapping": VIEW,
        "governance.permissionprofile": VIEW,
        "governance.profilegrant": VIEW,
        "governance.agentruntime": VIEW,
        "governance.decision": VIEW,
        "governance.policyrevision": VIEW,
        "catalog.catalogitem": VIEW,
        "catalog.catalogversion": VIEW,
        "catalog.intakerequest": VIEW,
        "catalog.intakereview": VIEW,
        "approvals.approvalrequest": VIEW,
        "approvals.approvalvote": VIEW,
        "approvals.webhookdelivery": VIEW,
        "approvals.webhookattempt": VIEW,
        "audit.auditevent": VIEW,
        "audit.auditseal": VIEW,
        "audit.auditpurge": VIEW,
    },
}


def role_groups_sync(apps, schema_editor=None) -> None:
    """Create the role groups and give each exactly the permissions listed above."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for label, actions in models.items():
            app_label, model = label.split(".")
            codenames = [f"{action}_{model}" for action in actions]
            wanted += list(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
        group.permissions.set(wanted)
