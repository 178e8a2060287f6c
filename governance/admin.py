"""Admin of the policy domain. Every write goes through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from governance import services
from governance.admin_base import ReadOnlyModelAdmin, ServiceModelAdmin
from governance.hooks import services as hook_services
from governance.models import (
    ActionType,
    AgentRuntime,
    Decision,
    PermissionProfile,
    PolicyRevision,
    ProfileGrant,
    ToolMapping,
    User,
    UserToken,
)


class ProfileGrantInline(admin.TabularInline):
    model = ProfileGrant
    extra = 1
    fields = ["connector", "resources", "access"]
    autocomplete_fields = ["connector"]


@admin.register(ActionType)
class ActionTypeAdmin(ServiceModelAdmin):
    list_display = [
        "key",
        "name",
        "impact",
        "reversible",
        "auto_execute",
        "approver_group",
        "approvals_needed",
        "approval_ttl_minutes",
    ]
    list_filter = ["impact", "reversible", "auto_execute", "approver_group"]
    search_fields = ["key", "name", "description"]
    create_service = staticmethod(services.action_type_create)
    update_service = staticmethod(services.action_type_update)
    delete_service = staticmethod(services.action_type_delete)


@admin.register(PermissionProfile)
class PermissionProfileAdmin(ServiceModelAdmin):
    list_display = ["slug", "name", "status", "owner", "expires_at", "revision", "updated_at"]
    list_filter = ["status", "launcher_groups"]
    search_fields = ["slug", "name", "description"]
    filter_horizontal = ["launcher_groups", "launcher_users", "plugins"]
    readonly_fields = ["revision"]
    inlines = [ProfileGrantInline]
    create_service = staticmethod(services.profile_create)
    update_service = staticmethod(services.profile_update)
    delete_service = staticmethod(services.profile_delete)

    def save_formset(self, request, form, formset, change):
        """Grants are written one by one through the grant services (each audited)."""
        profile = form.instance
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for grant_form in formset.forms:
            grant = grant_form.instance
            if grant_form in formset.deleted_forms:
                if grant.pk:
                    services.profile_grant_remove(grant, actor=request.user)
                    formset.deleted_objects.append(grant)
                continue
            if not grant_form.has_changed():
                continue
            fields = {k: grant_form.cleaned_data[k] for k in ("connector", "resources", "access")}
            if grant.pk:
                original = ProfileGrant.objects.get(pk=grant.pk)
                saved = services.profile_grant_update(original, actor=request.user, **fields)
                formset.changed_objects.append((saved, grant_form.changed_data))
            else:
                saved = services.profile_grant_add(actor=request.user, profile=profile, **fields)
                formset.new_objects.append(saved)


class AgentRuntimeForm(forms.ModelForm):
    callback_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=AgentRuntime._meta.get_field("callback_url").help_text,
    )

    class Meta:
        model = AgentRuntime
        fields = ["name", "description", "profiles", "callback_url"]


@admin.register(AgentRuntime)
class AgentRuntimeAdmin(ServiceModelAdmin):
    """Runtimes are created with `manage.py create_runtime` or the API (the token is shown
    once there); here admins change profiles and revoke."""

    form = AgentRuntimeForm
    list_display = [
        "name",
        "token_prefix",
        "callback_url",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "profiles"]
    search_fields = ["name", "description"]
    filter_horizontal = ["profiles"]
    actions = ["revoke"]
    update_service = staticmethod(services.runtime_update)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []

    def save_model(self, request, obj, form, change):
        runtime = AgentRuntime.objects.get(pk=obj.pk)
        fields = {k: form.cleaned_data[k] for k in ("description", "profiles")}
        services.runtime_update(runtime, actor=request.user, **fields)
        url = form.cleaned_data["callback_url"]
        if url != runtime.callback_url:
            secret = services.runtime_callback_set(runtime, actor=request.user, url=url)
            if secret:
                messages.warning(
                    request,
                    f"Webhook signing secret for {runtime.name}: {secret} — copy it now into "
                    "the agent's configuration; it is not shown again.",
                )

    @admin.action(description="Revoke the selected runtimes' tokens")
    def revoke(self, request, queryset):
        for runtime in queryset.filter(revoked_at__isnull=True):
            services.runtime_revoke(runtime, actor=request.user, reason="Revoked in the admin.")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyModelAdmin):
    list_display = [
        "created_at",
        "action",
        "on_behalf_of",
        "profile_slug",
        "runtime",
        "status",
        "reason",
    ]
    list_filter = ["status", "outcome", "reason", "impact", "runtime"]
    search_fields = ["request_id", "on_behalf_of", "action", "profile_slug"]
    date_hierarchy = "created_at"


@admin.register(PolicyRevision)
class PolicyRevisionAdmin(ReadOnlyModelAdmin):
    list_display = ["number", "changed_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """People. Group membership (roles, approver groups) changes through an audited service."""

    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "roles",
    ]
    list_filter = ["is_active", "is_staff", "groups"]

    @admin.display(description="Groups")
    def roles(self, obj):
        return ", ".join(g.name for g in obj.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def save_related(self, request, form, formsets, change):
        groups = form.cleaned_data.pop("groups", None)
        super().save_related(request, form, formsets, change)
        if groups is not None:
            services.user_groups_set(form.instance, actor=request.user, groups=groups)


@admin.register(UserToken)
class UserTokenAdmin(admin.ModelAdmin):
    """Personal API tokens: issued with `manage.py create_user_token`; revoked here."""

    list_display = ["token_prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__email", "token_prefix"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.user_token_revoke(token, actor=request.user)


@admin.register(ToolMapping)
class ToolMappingAdmin(ServiceModelAdmin):
    list_display = ["tool", "action", "connector", "description"]
    search_fields = ["tool", "action", "description"]
    create_service = staticmethod(hook_services.tool_mapping_create)
    update_service = staticmethod(hook_services.tool_mapping_update)
    delete_service = staticmethod(hook_services.tool_mapping_delete)
