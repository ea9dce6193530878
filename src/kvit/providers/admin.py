from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.providers.models import Provider
from kvit.users.admin_scoping import ScopedModelAdmin


@admin.register(Provider)
class ProviderAdmin(ScopedModelAdmin):
    list_display = ("name", "short_name", "inn", "kpp", "bic", "bank_name")
    search_fields = ("name", "short_name", "inn")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("tenant", "name", "short_name", "inn", "kpp")}),
        (_("Bank details"), {"fields": ("settlement_account", "bic", "corr_account", "bank_name")}),
        (_("Contacts"), {"fields": ("address", "phone", "email", "website")}),
    )
