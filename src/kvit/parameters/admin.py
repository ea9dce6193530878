from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kvit.parameters.models import Parameter
from kvit.users.admin_scoping import ScopedModelAdmin


@admin.register(Parameter)
class ParameterAdmin(ScopedModelAdmin):
    list_display = ("name", "value", "effective_from", "effective_to", "note")
    list_filter = ("name",)
    search_fields = ("name", "value", "note")
    date_hierarchy = "effective_from"
    fields = ("tenant", "name", "description", "value", "effective_from", "effective_to", "note")
    readonly_fields = ("description",)

    @admin.display(description=_("description"))
    def description(self, obj: Parameter) -> str:
        return obj.description
