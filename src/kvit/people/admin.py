from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kvit.billing.admin import BilledInline, RecalculatingAdmin, RecalculatingFormSet
from kvit.core.dating import DateRange
from kvit.core.ownership import Share
from kvit.db.formsets import EffectiveDatedInlineFormSet
from kvit.people import actions
from kvit.people.models import Absence, Benefit, BenefitCategory, Ownership, Person, Registration
from kvit.people.queries import share_errors
from kvit.users.admin_scoping import (
    LargeTable,
    ParentEditedAdmin,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedTabularInline,
)

DATES = ("effective_from", "effective_to")


class OwnershipFormSet(RecalculatingFormSet, EffectiveDatedInlineFormSet):
    """A premise's ownership shares add up to exactly 1 on every date (spec 1.5); saved and
    deleted billed at once (the owners count in the premise's charges)."""

    save_row = staticmethod(actions.save_ownership)
    remove_row = staticmethod(actions.remove_ownership)

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # a row with a bad share or dates would make the sums misleading
        fields = ["share_numerator", "share_denominator", *DATES]
        shares = [
            Share(
                row.values["share_numerator"],
                row.values["share_denominator"],
                DateRange(row.values["effective_from"], row.values["effective_to"]),
            )
            for row in self.rows(fields)
        ]
        errors = share_errors(shares)
        if errors:
            raise ValidationError(errors)


class OwnershipInline(ScopedTabularInline):
    model = Ownership
    formset = OwnershipFormSet
    fields = ("owner", "share_numerator", "share_denominator", *DATES, "document")
    autocomplete_fields = ("owner",)


class RegistrationFormSet(RecalculatingFormSet, EffectiveDatedInlineFormSet):
    save_row = staticmethod(actions.save_registration)


class BenefitFormSet(RecalculatingFormSet, EffectiveDatedInlineFormSet):
    save_row = staticmethod(actions.save_benefit)


class AbsenceFormSet(RecalculatingFormSet, EffectiveDatedInlineFormSet):
    save_row = staticmethod(actions.save_absence)


class RegistrationInline(BilledInline):
    model = Registration
    formset = RegistrationFormSet
    fields = ("person", "kind", *DATES, "document")
    autocomplete_fields = ("person",)


class BenefitInline(BilledInline):
    model = Benefit
    formset = BenefitFormSet
    fields = ("person", "category", *DATES, "document")
    autocomplete_fields = ("person",)


class AbsenceInline(BilledInline):
    model = Absence
    formset = AbsenceFormSet
    fields = ("person", *DATES, "filed_on", "document")
    autocomplete_fields = ("person",)


@admin.register(Person)
class PersonAdmin(LargeTable, ScopedModelAdmin):
    list_display = ("__str__", "birth_date", "inn", "phone", "email")
    search_fields = ("last_name", "first_name", "middle_name", "inn", "phone")
    fieldsets = (
        (None, {"fields": ("tenant", "last_name", "first_name", "middle_name", "birth_date")}),
        (_("Contacts"), {"fields": ("inn", "phone", "email")}),
    )


@admin.register(Ownership)
class OwnershipAdmin(LargeTable, ParentEditedAdmin):
    list_display = ("premise", "owner", "share", *DATES, "document")
    list_select_related = ("premise__building", "owner")
    list_filter = (("premise__building", ScopedAutocompleteFilter),)
    search_fields = ("owner__last_name", "premise__building__address", "premise__number")

    @admin.display(description=_("share"))
    def share(self, obj: Ownership) -> str:
        return f"{obj.share_numerator}/{obj.share_denominator}"


@admin.register(Registration)
class RegistrationAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    save_row = staticmethod(actions.save_registration)
    remove_row = staticmethod(actions.remove_registration)
    list_display = ("person", "account", "kind", *DATES)
    list_select_related = ("person", "account")
    list_filter = ("kind",)
    search_fields = ("person__last_name", "account__number")
    autocomplete_fields = ("account", "person")
    date_hierarchy = "effective_from"


@admin.register(BenefitCategory)
class BenefitCategoryAdmin(ScopedModelAdmin):
    list_display = ("name", "code", "rate")
    search_fields = ("name", "code")
    autocomplete_fields = ("services",)


@admin.register(Benefit)
class BenefitAdmin(RecalculatingAdmin, ScopedModelAdmin):
    save_row = staticmethod(actions.save_benefit)
    remove_row = staticmethod(actions.remove_benefit)
    list_display = ("person", "category", "account", *DATES)
    list_select_related = ("person", "category", "account")
    list_filter = (("category", ScopedAutocompleteFilter),)
    search_fields = ("person__last_name", "account__number", "category__name")
    autocomplete_fields = ("account", "person", "category")


@admin.register(Absence)
class AbsenceAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    save_row = staticmethod(actions.save_absence)
    remove_row = staticmethod(actions.remove_absence)
    list_display = ("person", "account", *DATES, "filed_on")
    list_select_related = ("person", "account")
    search_fields = ("person__last_name", "account__number")
    autocomplete_fields = ("account", "person")
    date_hierarchy = "effective_from"
    fields = ("account", "person", *DATES, "filed_on", "document")
