from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kvit.metering.admin import MeterInline
from kvit.people.admin import OwnershipInline
from kvit.premises.models import Building, BuildingResource, MeterImpossibility, Premise
from kvit.users.admin_scoping import (
    LargeTable,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedTabularInline,
)


class BuildingResourceInline(ScopedTabularInline):
    model = BuildingResource
    fields = ("resource", "common_meter")


class MeterImpossibilityInline(ScopedTabularInline):
    model = MeterImpossibility
    fields = ("resource", "act_number", "act_on")


@admin.register(Building)
class BuildingAdmin(ScopedModelAdmin):
    list_display = (
        "address",
        "management_method",
        "heating_scheme",
        "capital_repair_fund",
        "total_area",
        "common_area",
    )
    list_filter = ("management_method", "heating_scheme", "capital_repair_fund")
    search_fields = ("address", "fias_id")
    autocomplete_fields = ("node",)
    inlines = (BuildingResourceInline,)
    fieldsets = (
        (None, {"fields": ("tenant", "address", "fias_id", "node")}),
        (_("Areas"), {"fields": ("total_area", "common_area")}),
        (
            _("Management"),
            {
                "fields": (
                    "management_method",
                    "heating_scheme",
                    "capital_repair_fund",
                    "due_day",
                )
            },
        ),
    )


@admin.register(BuildingResource)
class BuildingResourceAdmin(ScopedModelAdmin):
    list_display = ("building", "resource", "common_meter")
    list_select_related = ("building",)
    list_filter = ("resource", "common_meter", ("building", ScopedAutocompleteFilter))
    search_fields = ("building__address",)
    autocomplete_fields = ("building",)


@admin.register(Premise)
class PremiseAdmin(LargeTable, ScopedModelAdmin):
    list_display = ("__str__", "kind", "area", "living_area", "rooms", "communal_flat")
    list_select_related = ("building",)
    list_filter = ("kind", "communal_flat", ("building", ScopedAutocompleteFilter))
    search_fields = ("number", "building__address")
    autocomplete_fields = ("building", "node")
    inlines = (OwnershipInline, MeterInline, MeterImpossibilityInline)
    fields = (
        "tenant",
        "building",
        "number",
        "node",
        "kind",
        "area",
        "living_area",
        "rooms",
        "communal_flat",
    )


@admin.register(MeterImpossibility)
class MeterImpossibilityAdmin(ScopedModelAdmin):
    list_display = ("premise", "resource", "act_number", "act_on")
    list_select_related = ("premise__building",)
    list_filter = ("resource",)
    search_fields = ("act_number", "premise__building__address", "premise__number")
    autocomplete_fields = ("premise",)
    date_hierarchy = "act_on"
