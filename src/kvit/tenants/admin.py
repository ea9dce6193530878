from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from kvit.tenants.models import HierarchyNode, Tenant
from kvit.users.admin_scoping import ScopedModelAdmin


@admin.register(Tenant)
class TenantAdmin(ScopedModelAdmin):
    list_display = ("name", "code", "kind", "currency")
    list_filter = ("kind",)
    search_fields = ("name", "code")

    # A tenant's chairman may edit their own organisation; creating and removing
    # organisations is the platform's (superusers') business.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(HierarchyNode)
class HierarchyNodeAdmin(ScopedModelAdmin):
    list_display = ("indented_name", "kind", "code", "parent")
    list_select_related = ("parent",)
    list_filter = ("kind",)
    search_fields = ("name", "code", "kind")
    autocomplete_fields = ("parent",)
    fields = ("tenant", "parent", "kind", "code", "name", "ancestors", "path")
    readonly_fields = ("ancestors", "path")

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj: HierarchyNode) -> str:
        depth = max(obj.path.count("/") - 2, 0)
        return "\u2003" * depth + obj.name  # em spaces: the tree shows in the path order

    @admin.display(description=_("ancestors"))
    def ancestors(self, obj: HierarchyNode) -> Any:
        if obj.pk is None:
            return None
        ids = [int(part) for part in obj.path.strip("/").split("/")[:-1] if part]
        if not ids:
            return _("none: a root node")
        nodes = HierarchyNode.objects.in_bulk(ids)
        return format_html_join(" → ", "{}", ((nodes[i],) for i in ids if i in nodes))
