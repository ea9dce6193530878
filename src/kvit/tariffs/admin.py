from __future__ import annotations

from collections import Counter

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kvit.billing.admin import RecalculatingAdmin
from kvit.db.formsets import SetValidatedInlineFormSet
from kvit.tariffs import actions
from kvit.tariffs.models import Norm, Service, Tariff, TariffTier, TariffZone
from kvit.users.admin_scoping import (
    ParentEditedAdmin,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedTabularInline,
)

DATES = ("effective_from", "effective_to")


class TierFormSet(SetValidatedInlineFormSet):
    """A tiered tariff's tiers: exactly one open tier (no upper bound), and increasing bounds,
    that is every bound above zero and no two alike."""

    def clean(self) -> None:
        if not any(self.errors):
            self.check_tiers()
        super().clean()  # after ours: Django's generic duplicate message says less

    def check_tiers(self) -> None:
        rows = list(self.rows(["upper_bound"]))
        if not rows:
            return  # a flat or time-of-use tariff has no tiers
        label = TariffTier._meta.get_field("upper_bound").verbose_name
        errors = []
        open_rows = [str(row) for row in rows if row.values["upper_bound"] is None]
        if len(open_rows) != 1:
            errors.append(
                _(
                    "Exactly one tier must leave “%(field)s” empty (the last, open tier); "
                    "%(count)s do: %(rows)s."
                )
                % {"field": label, "count": len(open_rows), "rows": ", ".join(open_rows) or "—"}
            )
        bounds = Counter(row.values["upper_bound"] for row in rows)
        for row in rows:
            bound = row.values["upper_bound"]
            if bound is not None and bound <= 0:
                errors.append(
                    _("%(row)s: “%(field)s” must be above 0: the bounds increase from 0.")
                    % {"row": str(row).capitalize(), "field": label}
                )
        for bound in sorted(b for b, n in bounds.items() if b is not None and n > 1):
            same = [str(row) for row in rows if row.values["upper_bound"] == bound]
            errors.append(
                _(
                    "%(rows)s have the same “%(field)s” %(bound)s: each tier's bound must be "
                    "above the previous one's."
                )
                % {"rows": ", ".join(same).capitalize(), "field": label, "bound": bound}
            )
        if errors:
            raise ValidationError(errors)


class TierInline(ScopedTabularInline):
    model = TariffTier
    formset = TierFormSet
    fields = ("upper_bound", "value")


class ZoneInline(ScopedTabularInline):
    model = TariffZone
    fields = ("zone", "value")


@admin.register(Service)
class ServiceAdmin(ScopedModelAdmin):
    list_display = ("name", "code", "unit", "method", "resource", "provider", "sort_order")
    list_select_related = ("provider",)
    list_filter = ("method", "unit", "resource", "penalty_scheme")
    search_fields = ("name", "code")
    autocomplete_fields = ("provider",)
    fieldsets = (
        (None, {"fields": ("tenant", "code", "name", "unit", "method", "resource", "provider")}),
        (
            _("Calculation rules"),
            {
                "fields": (
                    "absence_recalc_allowed",
                    "increase_coefficient_applies",
                    "penalty_scheme",
                    "part_of_maintenance",
                    "sort_order",
                )
            },
        ),
    )


@admin.register(Tariff)
class TariffAdmin(RecalculatingAdmin, ScopedModelAdmin):
    """A tariff version with its tiers and zones, saved and billed at once as one change."""

    save_row = staticmethod(actions.save_tariff)
    remove_row = staticmethod(actions.remove_tariff)
    list_display = ("service", "group", *DATES, "value", "vat_included")
    list_select_related = ("service",)
    list_filter = (("service", ScopedAutocompleteFilter), "vat_included")
    search_fields = ("service__name", "group")
    date_hierarchy = "effective_from"
    autocomplete_fields = ("service",)
    inlines = (TierInline, ZoneInline)


@admin.register(TariffTier)
class TariffTierAdmin(ParentEditedAdmin):
    list_display = ("tariff", "upper_bound", "value")
    list_select_related = ("tariff__service",)
    search_fields = ("tariff__service__name",)


@admin.register(TariffZone)
class TariffZoneAdmin(ParentEditedAdmin):
    list_display = ("tariff", "zone", "value")
    list_select_related = ("tariff__service",)
    list_filter = ("zone",)
    search_fields = ("tariff__service__name",)


@admin.register(Norm)
class NormAdmin(RecalculatingAdmin, ScopedModelAdmin):
    save_row = staticmethod(actions.save_norm)
    remove_row = staticmethod(actions.remove_norm)
    list_display = ("service", "kind", "rooms", "persons", "value", *DATES)
    list_select_related = ("service",)
    list_filter = (("service", ScopedAutocompleteFilter), "kind")
    search_fields = ("service__name",)
    date_hierarchy = "effective_from"
    autocomplete_fields = ("service",)
