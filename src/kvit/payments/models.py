"""Payments as received (spec 6.1), their explicit service split and their events.

A `Payment` is the canonical record of one payment, whatever its source (a bank registry
line, an aggregator callback, the cash desk). Its idempotency key is (tenant, source,
external id), a unique constraint: the same record received twice is one row, and what it
posted to the ledger is posted once (`kvit.payments.actions`). The money itself lives in the
ledger: a posted payment is a set of `payment` entries whose `source_id` is the payment's id.

A payment's status is its only field that changes, and only forwards:

    posted ──────────────→ reversed
    suspense ─→ transferred ─→ reversed
       ├─────→ refunded
       └─────→ reversed      (a bank recalls an unidentified payment)

Every change is written down as a `PaymentEvent` (append-only): who, when and why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.core.periods import Period
from kvit.db.append_only import AppendOnly
from kvit.db.references import References
from kvit.db.tenancy import foreign_tenant_errors

KOPECK_TOLERANCE = Decimal("0.005")
"""SQLite keeps decimals as floats: a check that two sums are equal compares to the kopeck."""


class Payment(models.Model):
    """One payment as received (spec 6.1). Amounts are in the account's currency: `amount`
    is what the payer paid and what is credited to the account, `fee` what the bank kept,
    `net_amount` what reaches the provider."""

    class Status(models.TextChoices):
        POSTED = "posted", pgettext_lazy("payment", "posted")
        SUSPENSE = "suspense", pgettext_lazy("payment", "in suspense")
        TRANSFERRED = "transferred", pgettext_lazy("payment", "transferred from suspense")
        REVERSED = "reversed", pgettext_lazy("payment", "reversed")
        REFUNDED = "refunded", pgettext_lazy("payment", "refunded")

    class SuspenseReason(models.TextChoices):
        UNKNOWN_ACCOUNT = "unknown_account", _("account not found")
        CLOSED_ACCOUNT = "closed_account", _("account closed")
        NO_PROVIDER = "no_provider", _("no provider to credit")

    class DocumentKind(models.TextChoices):
        REGISTRY = "registry", _("bank registry")
        ONLINE = "online", _("online transaction")
        CASH_RECEIPT = "cash_receipt", _("cash receipt")

    ON_ACCOUNT = (Status.POSTED, Status.TRANSFERRED)
    """The statuses whose money is on the account: their ledger entries stand."""

    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.PROTECT,
        db_constraint=False,  # checked per statement (Meta)
        db_index=False,  # the idempotency key starts with it
        verbose_name=_("organisation"),
    )
    source = models.CharField(
        _("source"),
        max_length=40,
        help_text=_("Where the payment came from: cash, a bank's code, an aggregator."),
    )
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        help_text=_("The source's own unique number of the operation (the idempotency key)."),
    )
    paid_at = models.DateTimeField(_("paid at"))
    value_date = models.DateField(
        _("value date"),
        null=True,
        blank=True,
        help_text=_("When the money reached the provider's bank account."),
    )
    account = models.ForeignKey(
        "accounts.Account",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # the account index starts with it
        related_name="payments",
        verbose_name=_("personal account"),
        help_text=_("Empty while the account is not identified (suspense)."),
    )
    account_number = models.CharField(_("account number as received"), max_length=30, blank=True)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    period = models.DateField(
        _("period"),
        null=True,
        blank=True,
        help_text=_("The period the payer named (its first day), if any."),
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("What the payer paid; this is credited to the account."),
    )
    fee = models.DecimalField(
        _("bank fee"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    net_amount = models.DecimalField(
        _("net amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("The amount less the bank fee: what the provider receives."),
    )
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # a partial index (Meta)
        related_name="+",
        verbose_name=_("provider"),
        help_text=_("The provider the payment is for, if the payer or the bank named one."),
    )
    penalty_designated = models.BooleanField(
        _("designated for penalties"),
        default=False,
        help_text=_("The payer explicitly designated the payment for penalties."),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    suspense_reason = models.CharField(
        _("suspense reason"), max_length=20, choices=SuspenseReason.choices, blank=True
    )
    document_kind = models.CharField(
        _("received document"), max_length=20, choices=DocumentKind.choices, blank=True
    )
    document_number = models.CharField(
        _("document number"),
        max_length=64,
        blank=True,
        help_text=_("The registry, the online transaction or the cash receipt number."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # a partial index (Meta)
        related_name="+",
        verbose_name=_("created by"),
    )

    tenant_path = "tenant"
    account_path = "account"

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-id"]
        indexes = [
            models.Index(fields=["account", "paid_at"], name="payments_payment_account_idx"),
            models.Index(fields=["tenant", "paid_at"], name="payments_payment_paid_idx"),
            models.Index(
                fields=["tenant", "paid_at"],
                condition=Q(status="suspense"),
                name="payments_payment_suspense_idx",
            ),
            # Partial, as the ledger's: a registry's payments name neither, and a lookup by
            # a value (the payments of a provider or a user being deleted) implies NOT NULL.
            models.Index(
                fields=["provider"],
                condition=Q(provider__isnull=False),
                name="payments_payment_provider_idx",
            ),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="payments_payment_author_idx",
            ),
        ]
        constraints = [
            # Foreign keys checked per statement (kvit.db.references): a registry inserts a
            # million payments, and a row-by-row check of each was a tenth of its import.
            References(
                name="payments_payment_references",
                fields=["tenant", "account", "provider"],
                tenant="tenant",
            ),
            References(name="payments_payment_author", fields=["created_by"]),
            models.UniqueConstraint(
                fields=["tenant", "source", "external_id"],
                name="payments_payment_key_unique",
                violation_error_message=_(
                    "A payment with this source and external id is already recorded."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(source="") & ~Q(external_id=""),
                name="payments_payment_key_given",
                violation_error_message=_("A payment needs its source and external id."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="payments_payment_amount_positive",
                violation_error_message=_("A payment amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(fee__lte=F("amount")),
                name="payments_payment_fee_range",
                violation_error_message=_("The bank fee must be between zero and the amount."),
            ),
            models.CheckConstraint(
                condition=Q(net_amount__gt=F("amount") - F("fee") - KOPECK_TOLERANCE)
                & Q(net_amount__lt=F("amount") - F("fee") + KOPECK_TOLERANCE),
                name="payments_payment_net_amount",
                violation_error_message=_("The net amount must be the amount less the fee."),
            ),
            models.CheckConstraint(
                condition=Q(period__isnull=True) | Q(period__day=1),
                name="payments_payment_period_first_day",
                violation_error_message=_("A period is given by the first day of its month."),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["posted", "transferred"]) | Q(account__isnull=False),
                name="payments_payment_posted_has_account",
                violation_error_message=_("A payment on an account names the account."),
            ),
            models.CheckConstraint(
                condition=~Q(status="suspense") | ~Q(suspense_reason=""),
                name="payments_payment_suspense_reason",
                violation_error_message=_("A payment in suspense says why."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.external_id}"

    @property
    def paid_on(self) -> date:
        """The local date of payment: what penalties and allocation go by."""
        return timezone.localdate(self.paid_at)

    @property
    def period_text(self) -> str:
        return str(Period.of(self.period)) if self.period else ""

    def clean(self) -> None:
        errors = {
            **foreign_tenant_errors(self, self.tenant_id, "account", "provider"),
            **self.row_errors(),
        }
        if errors:
            raise ValidationError(errors)

    def row_errors(self) -> dict[str, ValidationError]:
        """What is wrong with the row by itself, without a query (`post_payments` checks the
        references of a whole batch at once)."""
        errors: dict[str, ValidationError] = {}
        if self.amount is not None and self.amount <= 0:
            errors["amount"] = ValidationError(
                _("A payment amount must be positive, not %(amount)s."),
                code="not_positive",
                params={"amount": self.amount},
            )
        if self.fee is not None and self.fee < 0:
            errors["fee"] = ValidationError(
                _("The bank fee cannot be negative (%(fee)s)."),
                code="negative_fee",
                params={"fee": self.fee},
            )
        elif self.fee is not None and self.amount is not None and self.fee > self.amount > 0:
            errors["fee"] = ValidationError(
                _("The bank fee %(fee)s is more than the amount %(amount)s."),
                code="fee_over_amount",
                params={"fee": self.fee, "amount": self.amount},
            )
        if (
            "amount" not in errors
            and "fee" not in errors
            and None not in (self.amount, self.fee, self.net_amount)
            and self.net_amount != self.amount - self.fee
        ):
            errors["net_amount"] = ValidationError(
                _("The net amount %(net)s is not the amount %(amount)s less the fee %(fee)s."),
                code="net_amount",
                params={"net": self.net_amount, "amount": self.amount, "fee": self.fee},
            )
        if self.period is not None and self.period.day != 1:
            errors["period"] = ValidationError(
                _("A period is given by the first day of its month.")
            )
        if self.paid_at is not None and timezone.is_naive(self.paid_at):
            errors["paid_at"] = ValidationError(
                _("The time of payment needs its time zone."), code="naive"
            )
        return errors


class SuspenseManager(models.Manager["SuspensePayment"]):
    def get_queryset(self) -> models.QuerySet[SuspensePayment]:
        return super().get_queryset().filter(status=Payment.Status.SUSPENSE)


class SuspensePayment(Payment):
    """Payments in suspense (невыясненные платежи, spec 6.4): a view of `Payment` for the
    back-office list an operator works through."""

    objects: ClassVar[SuspenseManager] = SuspenseManager()

    class Meta:
        proxy = True
        verbose_name = _("unidentified payment")
        verbose_name_plural = _("unidentified payments (suspense)")
        ordering = ["paid_at", "id"]


class PaymentSplit(models.Model):
    """One line of the payer's explicit split (spec 3.4.1): `amount` for a provider's
    service, as received. Never changed."""

    payment = models.ForeignKey(
        Payment, models.CASCADE, related_name="split", verbose_name=_("payment")
    )
    provider = models.ForeignKey(
        "providers.Provider", models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    service = models.ForeignKey(
        "tariffs.Service", models.PROTECT, related_name="+", verbose_name=_("service")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    tenant_path = "payment__tenant"
    account_path = "payment__account"

    class Meta:
        verbose_name = _("payment split line")
        verbose_name_plural = _("payment split")
        constraints = [
            AppendOnly(name="payments_split_append_only"),
            models.UniqueConstraint(
                fields=["payment", "provider", "service"], name="payments_split_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="payments_split_amount_not_negative",
                violation_error_message=_("A split amount cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount}"


class PaymentEvent(models.Model):
    """Something that happened to a payment, with who and why (append-only)."""

    class Kind(models.TextChoices):
        POSTED = "posted", pgettext_lazy("payment event", "posted")
        SUSPENSE = "suspense", pgettext_lazy("payment event", "put in suspense")
        TRANSFERRED = "transferred", pgettext_lazy("payment event", "transferred from suspense")
        REVERSED = "reversed", pgettext_lazy("payment event", "reversed")
        REFUNDED = "refunded", pgettext_lazy("payment event", "refunded")

    payment = models.ForeignKey(
        Payment,
        models.CASCADE,
        db_constraint=False,  # checked per statement (Meta)
        related_name="events",
        verbose_name=_("payment"),
    )
    kind = models.CharField(_("event"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # a partial index (Meta): an import by the command line has no user
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    tenant_path = "payment__tenant"
    account_path = "payment__account"

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["by"], condition=Q(by__isnull=False), name="payments_event_by_idx")
        ]
        constraints = [
            AppendOnly(name="payments_event_append_only"),
            References(name="payments_event_references", fields=["payment", "by"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}"
