"""The ledger in the back-office: entries are read-only (the database refuses changes anyway);
billing periods are opened with a form and closed with an action that asks first. Both call
kvit.ledger.actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kvit.core.periods import Period
from kvit.ledger.actions import check_can_open, close_period, open_period
from kvit.ledger.models import BillingPeriod, LedgerEntry
from kvit.users import roles
from kvit.users.admin_scoping import (
    LargeTable,
    ReadOnly,
    ScopedAutocompleteFilter,
    ScopedModelAdmin,
    scoped_choices,
)

RECENT_PERIODS = 24


class PeriodFilter(admin.SimpleListFilter):
    """The tenant's billing periods, newest first (a list from a small table, not a
    DISTINCT over the entries)."""

    title = _("period")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        periods = scoped_choices(request.user, BillingPeriod).order_by("-period")
        days = periods.values_list("period", flat=True).distinct()[:RECENT_PERIODS]
        return [(day.isoformat(), str(Period.of(day))) for day in days]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(period=value) if value else queryset


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    """Read-only: corrections are new entries posted by actions (a reversal, a
    recalculation), never edits."""

    list_display = (
        "id",
        "posted_on",
        "period_text",
        "account",
        "provider",
        "service",
        "kind",
        "amount",
        "quantity",
        "corrects",
    )
    list_display_links = ("id", "posted_on")
    list_select_related = ("account", "provider", "service")
    list_filter = (
        "kind",
        PeriodFilter,
        ("account", ScopedAutocompleteFilter),
        ("provider", ScopedAutocompleteFilter),
        ("service", ScopedAutocompleteFilter),
    )
    search_fields = ("account__number",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tenant",
                    "account",
                    "provider",
                    "service",
                    "period",
                    "posted_on",
                    "kind",
                    "amount",
                )
            },
        ),
        (
            _("Calculation"),
            {
                "fields": (
                    "quantity",
                    "unit",
                    "tariff",
                    "rule",
                    "zone",
                    "tier",
                    "span_from",
                    "span_to",
                    "explanation",
                )
            },
        ),
        (
            _("Correction and source"),
            {
                "fields": (
                    "corrects",
                    "corrects_period",
                    "reason",
                    "source_kind",
                    "source_id",
                    "run_id",
                    "created_at",
                    "created_by",
                )
            },
        ),
    )

    @admin.display(description=_("period"), ordering="period")
    def period_text(self, obj: LedgerEntry) -> str:
        return str(Period.of(obj.period))


class OpenPeriodForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = BillingPeriod
        fields = ("tenant", "period")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        tenant, period = data.get("tenant"), data.get("period")
        if tenant is not None and period is not None:
            try:
                check_can_open(tenant, period)
            except ValidationError as error:
                self.add_error("period", error)
        return data


@admin.register(BillingPeriod)
class BillingPeriodAdmin(ScopedModelAdmin):
    """Opening a period is the add form; closing is the list's action, which asks first.
    Nothing else about a period is edited."""

    form = OpenPeriodForm
    list_display = ("period_text", "status", "closed_at", "closed_by")
    list_select_related = ("closed_by",)
    list_filter = ("status",)
    fields = ("tenant", "period", "status", "closed_at", "closed_by")
    actions = ("close_periods",)

    @admin.display(description=_("period"), ordering="period")
    def period_text(self, obj: BillingPeriod) -> str:
        return str(obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("tenant", "period") if obj is None else self.fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_close_permission(self, request: HttpRequest) -> bool:
        return roles.may_change(request.user, BillingPeriod)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The tenant field is fixed to the user's own tenant for everyone but superusers.
        opened = open_period(form.cleaned_data["tenant"], obj.period)
        obj.pk, obj.tenant, obj.status = opened.pk, opened.tenant, opened.status

    @admin.action(description=_("Close the selected periods"), permissions=["close"])
    def close_periods(
        self, request: HttpRequest, queryset: QuerySet[BillingPeriod]
    ) -> HttpResponse | None:
        periods = list(queryset.select_related("tenant").order_by("tenant_id", "period"))
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Close billing periods"),
                "opts": self.model._meta,
                "periods": periods,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            }
            return TemplateResponse(
                request, "admin/ledger/billingperiod/close_confirmation.html", context
            )
        self.act_on_each(
            request,
            periods,
            lambda billing_period: close_period(
                billing_period.tenant, billing_period.period, request.user
            ),
            lambda billing_period: (
                gettext("The period %(period)s is closed.") % {"period": billing_period}
            ),
        )
        return None
