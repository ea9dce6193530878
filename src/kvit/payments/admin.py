"""Payments in the back-office: read-only (they come from banks, aggregators and the cash
desk through `kvit.payments.actions`); a payment is reversed, or moved out of suspense, with
a list action that asks first. Both call the actions."""

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
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from kvit.accounts.models import Account
from kvit.payments.actions import reverse_payment, transfer_from_suspense
from kvit.payments.models import Payment, PaymentEvent, PaymentSplit, SuspensePayment
from kvit.users import roles
from kvit.users.admin_scoping import (
    LargeTable,
    ReadOnly,
    ScopedModelAdmin,
    ScopedTabularInline,
)
from kvit.users.scoping import visible

FORM_TEMPLATE = "admin/payments/payment/action_form.html"


class ReadOnlyInline(ScopedTabularInline):
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentSplitInline(ReadOnlyInline):
    model = PaymentSplit
    fields = ("provider", "service", "amount")


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = ("at", "kind", "by", "reason", "details")


class ReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text=_("For example: the bank recalled the payment."),
    )


class TransferForm(forms.Form):
    account_number = forms.CharField(
        label=_("Account number"), max_length=30, widget=UnfoldAdminTextInputWidget
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_account_number(self) -> str:
        number = str(self.cleaned_data["account_number"]).strip()
        if not visible(self.user, Account.objects.filter(number=number)).exists():
            raise ValidationError(_("There is no account %(number)s."), params={"number": number})
        return number


@admin.register(Payment)
class PaymentAdmin(ReadOnly, LargeTable, ScopedModelAdmin):
    """Read-only; reversed with the list's action."""

    list_display: tuple[str, ...] = (
        "paid_at",
        "source",
        "external_id",
        "account",
        "account_number",
        "amount",
        "fee",
        "net_amount",
        "provider",
        "period_label",
        "status",
    )
    list_display_links = ("paid_at", "external_id")
    list_select_related = ("account", "provider")
    list_filter = ("status", "source", "paid_at")
    search_fields = ("external_id", "account_number", "payer_name")
    inlines = (PaymentSplitInline, PaymentEventInline)
    actions: tuple[str, ...] = ("reverse_payments",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "tenant",
                    "source",
                    "external_id",
                    "paid_at",
                    "value_date",
                    "amount",
                    "fee",
                    "net_amount",
                    "status",
                    "suspense_reason",
                )
            },
        ),
        (
            _("Payer"),
            {
                "fields": (
                    "account",
                    "account_number",
                    "payer_name",
                    "address",
                    "period",
                    "provider",
                    "penalty_designated",
                )
            },
        ),
        (
            _("Received document"),
            {"fields": ("document_kind", "document_number", "created_at", "created_by")},
        ),
    )

    @admin.display(description=_("period"), ordering="period")
    def period_label(self, obj: Payment) -> str:
        return obj.period_text

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return roles.may_change(request.user, Payment)

    def has_transfer_permission(self, request: HttpRequest) -> bool:
        return roles.may_change(request.user, Payment)

    def _form_page(
        self,
        request: HttpRequest,
        payments: list[Payment],
        form: forms.Form,
        action: str,
        title: str,
        question: str,
        submit: str,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "submit": submit,
            "opts": self.model._meta,
            "payments": payments,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)

    @admin.action(description=_("Reverse the selected payments"), permissions=["reverse"])
    def reverse_payments(
        self, request: HttpRequest, queryset: QuerySet[Payment]
    ) -> HttpResponse | None:
        payments = list(queryset.select_related("account").order_by("paid_at", "id"))
        confirmed = request.POST.get("post") == "yes"
        form = ReverseForm(request.POST if confirmed else None)
        if not confirmed or not form.is_valid():
            return self._form_page(
                request,
                payments,
                form,
                "reverse_payments",
                gettext("Reverse payments"),
                gettext(
                    "Reverse these payments? Everything they posted to the accounts is "
                    "reversed and penalties are recalculated. This cannot be undone."
                ),
                gettext("Yes, reverse them"),
            )
        reason = form.cleaned_data["reason"]
        self.act_on_each(
            request,
            payments,
            lambda payment: reverse_payment(payment, reason, request.user),
            lambda payment: gettext("Payment %(key)s is reversed.") % {"key": payment},
        )
        return None

    @admin.action(description=_("Transfer to an account"), permissions=["transfer"])
    def transfer_payments(
        self, request: HttpRequest, queryset: QuerySet[Payment]
    ) -> HttpResponse | None:
        payments = list(queryset.order_by("paid_at", "id"))
        confirmed = request.POST.get("post") == "yes"
        form = TransferForm(request.POST if confirmed else None, user=request.user)
        if not confirmed or not form.is_valid():
            return self._form_page(
                request,
                payments,
                form,
                "transfer_payments",
                gettext("Transfer payments from suspense"),
                gettext(
                    "Transfer these payments to the account below? They are allocated there "
                    "as of the day they were paid."
                ),
                gettext("Transfer"),
            )
        number = form.cleaned_data["account_number"]

        def transfer(payment: Payment) -> None:
            account = Account.objects.filter(tenant_id=payment.tenant_id, number=number).first()
            if account is None:
                raise ValidationError(
                    gettext("There is no account %(number)s in the organisation of %(key)s.")
                    % {"number": number, "key": payment}
                )
            transfer_from_suspense(payment, account, request.user)

        self.act_on_each(
            request,
            payments,
            transfer,
            lambda payment: (
                gettext("Payment %(key)s is transferred to account %(number)s.")
                % {"key": payment, "number": number}
            ),
        )
        return None


@admin.register(SuspensePayment)
class SuspensePaymentAdmin(PaymentAdmin):
    """The suspense list (spec 6.4): unidentified payments, oldest first, to be moved to an
    account."""

    list_display = (
        "paid_at",
        "source",
        "external_id",
        "account_number",
        "payer_name",
        "address",
        "amount",
        "suspense_reason",
    )
    list_filter = ("suspense_reason", "source", "paid_at")
    actions = ("transfer_payments", "reverse_payments")
