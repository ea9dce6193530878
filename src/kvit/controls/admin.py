"""The To Do list in the back-office: read-only (the checks open and close the entries); the
list's action checks the selected entries' organisations again, so a mismatch put right
closes at once rather than at the next nightly run."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kvit.controls.actions import reconcile
from kvit.controls.models import ToDo
from kvit.controls.texts import describe
from kvit.tenants.models import Tenant
from kvit.users import roles
from kvit.users.admin_scoping import ReadOnly, ScopedModelAdmin, bullet_list


class OpenFilter(admin.SimpleListFilter):
    title = pgettext_lazy("to do", "status")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", pgettext_lazy("to do", "open")), ("no", pgettext_lazy("to do", "closed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ToDo]) -> QuerySet[ToDo]:
        if self.value() in ("yes", "no"):
            return queryset.filter(closed_at__isnull=self.value() == "yes")
        return queryset


@admin.register(ToDo)
class ToDoAdmin(ReadOnly, ScopedModelAdmin):
    list_display = ("opened_at", "kind", "subject", "finding", "found_at", "closed_at")
    list_display_links = ("opened_at", "subject")
    list_filter = (OpenFilter, "kind", "opened_at")
    search_fields = ("subject",)
    actions = ("check_again",)
    fields = (
        "tenant",
        "kind",
        "subject",
        "finding",
        "about",
        "opened_at",
        "found_at",
        "closed_at",
    )
    readonly_fields = fields

    @admin.display(description=_("finding"))
    def finding(self, obj: ToDo) -> str:
        return bullet_list(describe(obj.kind, obj.details))

    @admin.display(description=_("about"))
    def about(self, obj: ToDo) -> str:
        for name in ("account", "registry", "bill_run"):
            target = getattr(obj, name)
            if target is not None:
                opts = target._meta
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[target.pk])
                return format_html('<a href="{}">{}: {}</a>', url, opts.verbose_name, target)
        return "—"

    def has_check_permission(self, request: HttpRequest) -> bool:
        return roles.may_change(request.user, ToDo)

    @admin.action(description=_("Check again now"), permissions=["check"])
    def check_again(self, request: HttpRequest, queryset: QuerySet[ToDo]) -> None:
        tenants = Tenant.objects.filter(pk__in=queryset.values("tenant_id")).order_by("code")
        for tenant in tenants:
            summary = reconcile(tenant)
            self.message_user(
                request,
                gettext("%(tenant)s: differences found: %(found)s; To Do closed: %(closed)s.")
                % {"tenant": tenant, "found": len(summary.found), "closed": summary.closed},
            )
