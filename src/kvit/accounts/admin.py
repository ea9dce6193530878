from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from kvit.accounts import actions
from kvit.accounts.models import Account, AccountService, Contract
from kvit.billing.admin import BilledInline, RecalculatingAdmin, RecalculatingFormSet
from kvit.db.formsets import EffectiveDatedInlineFormSet
from kvit.metering.models import Meter, Reading
from kvit.metering.queries import latest_readings
from kvit.people.admin import AbsenceInline, BenefitInline, RegistrationInline
from kvit.users.admin_scoping import (
    LargeTable,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    ScopedStackedInline,
)
from kvit.users.scoping import visible

DATES = ("effective_from", "effective_to")
CONTRACT_FIELDS = (
    "number",
    "signed_on",
    "organisation_name",
    "inn",
    "kpp",
    "price_category",
    "voltage_level",
    "contracted_volume",
)


class AccountServiceFormSet(RecalculatingFormSet, EffectiveDatedInlineFormSet):
    save_row = staticmethod(actions.save_account_service)


class AccountServiceInline(BilledInline):
    model = AccountService
    formset = AccountServiceFormSet
    fields = ("service", "provider", "tariff_group", *DATES)
    autocomplete_fields = ("service", "provider")


class ContractInline(ScopedStackedInline):
    model = Contract
    fields = CONTRACT_FIELDS


@admin.register(Account)
class AccountAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    """Its change page (templates/admin/accounts/account/change_form.html) also lists the
    premise's meters with their latest readings. The account and its connected services,
    registrations, benefits and absences are saved and billed at once, as one change."""

    save_row = staticmethod(actions.save_account)

    readings_per_zone = 3
    list_display = ("number", "premise", "payer", "consumer_kind", "opened_on", "closed_on")
    list_select_related = ("premise__building", "payer")
    list_filter = (
        "consumer_kind",
        ("closed_on", admin.EmptyFieldListFilter),
        ("premise__building", ScopedAutocompleteFilter),
    )
    search_fields = ("number", "payer__last_name", "premise__building__address")
    autocomplete_fields = ("premise", "node", "payer")
    inlines = (
        AccountServiceInline,
        RegistrationInline,
        BenefitInline,
        AbsenceInline,
        ContractInline,
    )
    fieldsets = (
        (None, {"fields": ("tenant", "number", "consumer_kind", "premise", "node", "payer")}),
        (
            _("Share and dates"),
            {"fields": ("share_numerator", "share_denominator", "opened_on", "closed_on")},
        ),
    )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Account | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None and obj.premise_id is not None:
            meters = list(visible(request.user, Meter.objects.filter(premise_id=obj.premise_id)))
            readings = latest_readings([m.pk for m in meters], self.readings_per_zone)
            reading_admin = self.admin_site.get_model_admin(Reading)
            context["premise_meters"] = [(m, readings.get(m.pk, [])) for m in meters]
            context["can_add_reading"] = reading_admin.has_add_permission(request)
        response: HttpResponse = super().render_change_form(
            request, context, add, change, form_url, obj
        )
        return response


@admin.register(Contract)
class ContractAdmin(ScopedModelAdmin):
    list_display = ("number", "organisation_name", "account", "inn", "price_category", "signed_on")
    list_select_related = ("account",)
    list_filter = ("price_category", "voltage_level")
    search_fields = ("number", "organisation_name", "inn", "account__number")
    autocomplete_fields = ("account",)
    fields = ("account", *CONTRACT_FIELDS)


@admin.register(AccountService)
class AccountServiceAdmin(RecalculatingAdmin, LargeTable, ScopedModelAdmin):
    save_row = staticmethod(actions.save_account_service)
    remove_row = staticmethod(actions.remove_account_service)
    list_display = ("account", "service", "provider", "tariff_group", *DATES)
    list_select_related = ("account", "service", "provider")
    list_filter = (("service", ScopedAutocompleteFilter), ("provider", ScopedAutocompleteFilter))
    search_fields = ("account__number",)
    autocomplete_fields = ("account", "service", "provider")
    date_hierarchy = "effective_from"
