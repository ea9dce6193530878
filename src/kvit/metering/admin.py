from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from unfold.forms import PaginationInlineFormSet

from kvit.billing.admin import BilledInline, RecalculatingAdmin, RecalculatingFormSet
from kvit.metering import actions
from kvit.metering.models import Meter, Reading
from kvit.users.admin_scoping import (
    LargeTable,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedTabularInline,
)


class MeterFormSet(RecalculatingFormSet, BaseInlineFormSet):  # type: ignore[type-arg]
    save_row = staticmethod(actions.save_meter)
    remove_row = staticmethod(actions.remove_meter)


class MeterInline(ScopedTabularInline):
    """A premise's meters, billed at once when added, corrected or deleted here; each opens
    on its own page with its readings."""

    model = Meter
    formset = MeterFormSet
    fk_name = "premise"
    fields = ("kind", "resource", "serial_number", "zones", "installed_on", "status", "removed_on")
    show_change_link = True


class ReadingFormSet(RecalculatingFormSet, PaginationInlineFormSet):  # type: ignore[misc]
    save_row = staticmethod(actions.save_reading)


class ReadingInline(BilledInline):
    """A meter's readings, billed at once when added or corrected here."""

    model = Reading
    formset = ReadingFormSet
    fields = ("zone", "taken_on", "value", "source", "kind", "status", "reason", "created_at")
    readonly_fields = ("created_at",)
    ordering = ("-taken_on", "zone", "-id")
    per_page = 24  # unfold paginates the inline: a meter gathers readings for years


@admin.register(Meter)
class MeterAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    """A meter with its readings: the readings added or corrected on its page are billed
    at once, together (`kvit.metering.actions`)."""

    save_row = staticmethod(actions.save_meter)
    remove_row = staticmethod(actions.remove_meter)
    list_display = (
        "serial_number",
        "resource",
        "kind",
        "premise",
        "building",
        "status",
        "installed_on",
        "next_verification_due",
    )
    list_select_related = ("premise__building", "building")
    list_filter = ("resource", "kind", "status", "zones")
    search_fields = ("serial_number", "premise__building__address", "building__address")
    autocomplete_fields = ("premise", "building", "node")
    inlines = (ReadingInline,)
    fieldsets = (
        (None, {"fields": ("tenant", "kind", "resource", "serial_number")}),
        (_("Where"), {"fields": ("premise", "building", "node")}),
        (
            _("Display"),
            {"fields": ("zones", "integer_digits", "fraction_digits", "transform_ratio")},
        ),
        (
            _("Life"),
            {
                "fields": (
                    "installed_on",
                    "verified_on",
                    "verification_interval_years",
                    "next_verification_due",
                    "sealed_on",
                    "removed_on",
                    "status",
                )
            },
        ),
    )
    readonly_fields = ("next_verification_due",)

    @admin.display(description=_("next verification due"))
    def next_verification_due(self, obj: Meter) -> object:
        return obj.next_verification_due


@admin.register(Reading)
class ReadingAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    """Readings: added, corrected and removed through `kvit.metering.actions`, so the
    charges they reach follow at once."""

    save_row = staticmethod(actions.save_reading)
    remove_row = staticmethod(actions.remove_reading)
    list_display = ("meter", "zone", "taken_on", "value", "source", "kind", "status", "created_at")
    list_select_related = ("meter",)
    list_filter = ("status", "source", "kind", "zone", ("meter", ScopedAutocompleteFilter))
    search_fields = ("meter__serial_number",)
    date_hierarchy = "taken_on"
    autocomplete_fields = ("meter",)
    fields = (
        "meter",
        "zone",
        "taken_on",
        "value",
        "source",
        "kind",
        "status",
        "reason",
        "created_at",
    )
    readonly_fields = ("created_at",)
