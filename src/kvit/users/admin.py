from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from kvit.users.admin_scoping import ScopedModelAdmin
from kvit.users.models import User

# Platform-level switches: not a tenant's to give.
SUPERUSER_ONLY_FIELDS = {"is_superuser", "groups", "user_permissions"}
# A user's history keeps no password, so its version pages show the other fields.
NOT_IN_HISTORY = {"password"}


def is_history_version(request: HttpRequest) -> bool:
    match = request.resolver_match
    return bool(match and match.url_name and match.url_name.endswith("_simple_history"))


@admin.register(User)
class UserAdmin(BaseUserAdmin, ScopedModelAdmin):  # type: ignore[misc, type-arg]
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
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

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if is_history_version(request):
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set() if request.user.is_superuser else set(SUPERUSER_ONLY_FIELDS)
        if is_history_version(request):
            hidden |= NOT_IN_HISTORY
        if not hidden:
            return fieldsets
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]})
            for name, opts in fieldsets
        ]


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):  # type: ignore[misc]
    """Unfold's look only: Kvit grants by role (kvit.users.roles), not by group."""
