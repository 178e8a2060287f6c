"""Admin of the catalog; writes go through the catalog services."""

from django.contrib import admin

from catalog import services
from catalog.models import CatalogItem, CatalogVersion
from governance.admin_base import ServiceModelAdmin


class CatalogVersionInline(admin.TabularInline):
    model = CatalogVersion
    extra = 0
    fields = [
        "version",
        "artifact_digest",
        "review_state",
        "is_pinned",
        "allowed_until",
        "yanked_at",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CatalogItem)
class CatalogItemAdmin(ServiceModelAdmin):
    list_display = ["slug", "name", "kind", "status", "owner", "owning_group", "reach"]
    list_filter = ["kind", "status", "reach", "owning_group"]
    search_fields = ["slug", "name", "description", "vendor"]
    inlines = [CatalogVersionInline]
    create_service = staticmethod(services.catalog_item_create)
    update_service = staticmethod(services.catalog_item_update)

    def has_delete_permission(self, request, obj=None):
        return False  # retire instead: decisions and profiles refer to items


@admin.register(CatalogVersion)
class CatalogVersionAdmin(admin.ModelAdmin):
    """Versions are added, pinned and yanked on the catalog pages or through the API."""

    list_display = [
        "item",
        "version",
        "review_state",
        "is_pinned",
        "allowed_until",
        "yanked_at",
        "created_at",
    ]
    list_filter = ["review_state", "is_pinned", "item__kind"]
    search_fields = ["item__slug", "version", "artifact_digest"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
