"""Admin classes whose writes go through the services (audited, permission-checked)."""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect

from governance.exceptions import ApplicationError


class ServiceModelAdmin(admin.ModelAdmin):
    """Routes the admin's saves and deletes through services.

    The admin form validates; the service then writes the fields (many-to-many
    included), bumps the policy revision and records before/after with the person who
    clicked Save. Subclasses name their services: `create_service(actor=, **fields)`,
    `update_service(obj, actor=, **fields)`, `delete_service(obj, actor=)`."""

    create_service = update_service = delete_service = None

    def _fields(self, form) -> dict:
        model_fields = {f.name for f in self.model._meta.get_fields()}
        return {k: v for k, v in form.cleaned_data.items() if k in model_fields and k != "id"}

    def save_model(self, request, obj, form, change):
        fields = self._fields(form)
        if change:
            original = type(obj).objects.get(pk=obj.pk)
            saved = type(self).update_service(original, actor=request.user, **fields)
        else:
            saved = type(self).create_service(actor=request.user, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Many-to-many values were written by the service; only inlines remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        type(self).delete_service(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                type(self).delete_service(obj, actor=request.user)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For records written only by the decision path (decisions, approvals, audit)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
