from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from kvit.users.admin_scoping import ScopedModelAdmin
from kvit.users.models import User

# Platform-level switches: not a tenant's to give.
SUPERUSER_ONLY_FIELDS = {"is_superuser", "groups", "user_permissions"}


@admin.register(User)
class UserAdmin(BaseUserAdmin, ScopedModelAdmin):  # type: ignore[misc, type-arg]
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    object_history_template = None  # User keeps no simple-history: Django's own change log
    list_display = ("username", "last_name", "first_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    autocomplete_fields = ("accounts",)
    filter_horizontal = ("groups", "user_permissions")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password", "tenant", "role")}),
        (_("Personal info"), {"fields": ("last_name", "first_name", "email")}),
        (_("Personal cabinet"), {"fields": ("accounts",)}),
        (
            _("Access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "username",
                    "usable_password",
                    "password1",
                    "password2",
                    "tenant",
                    "role",
                    "is_staff",
                )
            },
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (
                name,
                {**opts, "fields": [f for f in opts["fields"] if f not in SUPERUSER_ONLY_FIELDS]},
            )
            for name, opts in fieldsets
        ]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return admin.ModelAdmin.history_view(self, request, object_id, extra_context)

    def history_form_view(self, *args: Any, **kwargs: Any) -> HttpResponse:
        raise Http404  # no historical versions of users


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):  # type: ignore[misc]
    """Unfold's look only: Kvit grants by role (kvit.users.roles), not by group."""
