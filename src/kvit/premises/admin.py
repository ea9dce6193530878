from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from kvit.billing.admin import RecalculatingAdmin, RecalculatingFormSet
from kvit.metering.admin import MeterInline
from kvit.people.admin import OwnershipInline
from kvit.premises import actions
from kvit.premises.models import Building, BuildingResource, MeterImpossibility, Premise
from kvit.users.admin_scoping import (
    LargeTable,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedTabularInline,
)


class BuildingResourceFormSet(RecalculatingFormSet, BaseInlineFormSet):  # type: ignore[type-arg]
    save_row = staticmethod(actions.save_building_resource)
    remove_row = staticmethod(actions.remove_building_resource)


class BuildingResourceInline(ScopedTabularInline):
    model = BuildingResource
    formset = BuildingResourceFormSet
    fields = ("resource", "common_meter")


class MeterImpossibilityFormSet(RecalculatingFormSet, BaseInlineFormSet):  # type: ignore[type-arg]
    save_row = staticmethod(actions.save_meter_impossibility)
    remove_row = staticmethod(actions.remove_meter_impossibility)


class MeterImpossibilityInline(ScopedTabularInline):
    model = MeterImpossibility
    formset = MeterImpossibilityFormSet
    fields = ("resource", "act_number", "act_on")


@admin.register(Building)
class BuildingAdmin(RecalculatingAdmin, ScopedModelAdmin):
    """A building with its common-house meter flags: its areas, heating scheme, due day and
    flags are billed at once for every account of the building (`kvit.premises.actions`)."""

    save_row = staticmethod(actions.save_building)
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
class BuildingResourceAdmin(RecalculatingAdmin, ScopedModelAdmin):
    save_row = staticmethod(actions.save_building_resource)
    remove_row = staticmethod(actions.remove_building_resource)
    list_display = ("building", "resource", "common_meter")
    list_select_related = ("building",)
    list_filter = ("resource", "common_meter", ("building", ScopedAutocompleteFilter))
    search_fields = ("building__address",)
    autocomplete_fields = ("building",)


@admin.register(Premise)
class PremiseAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    """A premise with its owners, meters and meter impossibility acts, saved together and
    billed at once for the premise's accounts."""

    save_row = staticmethod(actions.save_premise)
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
class MeterImpossibilityAdmin(RecalculatingAdmin, ScopedModelAdmin):
    save_row = staticmethod(actions.save_meter_impossibility)
    remove_row = staticmethod(actions.remove_meter_impossibility)
    list_display = ("premise", "resource", "act_number", "act_on")
    list_select_related = ("premise__building",)
    list_filter = ("resource",)
    search_fields = ("act_number", "premise__building__address", "premise__number")
    autocomplete_fields = ("premise",)
    date_hierarchy = "act_on"
