"""Online payments through payment aggregators (spec 6.2, last paragraph; ADR 6).

An `Aggregator` is the organisation's contract with a payment aggregator (Click, Payme,
Paynet, a bank's Faster Payments gateway, or Kvit's own test bank): its code is the `source`
of the payments it brings, and its HMAC secrets authenticate its requests. Each payment it
reports is an `OnlineTransaction`, unique per aggregator and the aggregator's transaction id,
which moves only forwards:

    created ──→ performed ──→ cancelled      (cancel after perform: the payment is reversed)
       └────────────────────→ cancelled      (cancel before perform: nothing was posted)

The money itself is a `payments.Payment` (source = the aggregator's code, external id = the
transaction id), posted when the transaction is performed. Every request, accepted or
refused, and every security failure is written down as an `OnlineEvent` (append-only).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.db.append_only import AppendOnly

SECRET_MIN_LENGTH = 32
DEFAULT_TOLERANCE = 300  # seconds a signed request stays fresh (ADR 6)


class Aggregator(models.Model):
    """A contract with a payment aggregator (договор с платёжным агрегатором)."""

    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.PROTECT,
        db_index=False,  # the code's unique index starts with it
        verbose_name=_("organisation"),
    )
    code = models.SlugField(
        _("code"),
        max_length=40,
        help_text=_(
            "Names the aggregator in its requests' URLs and is the source of its payments."
        ),
    )
    name = models.CharField(_("name"), max_length=200)
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provider"),
        help_text=_("Fill in when the contract is for one provider: its payments go to it."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=128,
        validators=[MinLengthValidator(SECRET_MIN_LENGTH)],
        help_text=_("The HMAC key agreed with the aggregator. It is never shown again."),
    )
    previous_secret = models.CharField(_("previous secret"), max_length=128, blank=True)
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"),
        null=True,
        blank=True,
        help_text=_("The end of the rotation window: until then the previous secret is valid."),
    )
    tolerance = models.PositiveIntegerField(
        _("timestamp tolerance, seconds"),
        default=DEFAULT_TOLERANCE,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text=_("A request signed longer ago than this (or this far ahead) is refused."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("aggregator contract")
        verbose_name_plural = _("aggregator contracts")
        ordering = ["tenant", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code"],
                name="online_aggregator_code_unique",
                violation_error_message=_("The organisation has an aggregator with this code."),
            ),
            models.CheckConstraint(
                condition=Q(tolerance__gte=1) & Q(tolerance__lte=3600),
                name="online_aggregator_tolerance_range",
                violation_error_message=_("The tolerance is from 1 to 3600 seconds."),
            ),
            models.CheckConstraint(
                condition=Q(previous_secret="", previous_secret_until__isnull=True)
                | (~Q(previous_secret="") & Q(previous_secret_until__isnull=False)),
                name="online_aggregator_rotation_window",
                violation_error_message=_("A previous secret needs the end of its window."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def secrets_at(self, moment: datetime) -> list[str]:
        """The secrets a request may be signed with at `moment`: the current one, and the
        previous one until its rotation window ends."""
        valid = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_until
            and moment < self.previous_secret_until
        ):
            valid.append(self.previous_secret)
        return valid


class OnlineTransaction(models.Model):
    """One payment as the aggregator reports it, through create, perform and cancel."""

    class State(models.TextChoices):
        CREATED = "created", pgettext_lazy("online transaction", "created")
        PERFORMED = "performed", pgettext_lazy("online transaction", "performed")
        CANCELLED = "cancelled", pgettext_lazy("online transaction", "cancelled")

    tenant = models.ForeignKey(
        "tenants.Tenant", models.PROTECT, db_index=False, verbose_name=_("organisation")
    )
    aggregator = models.ForeignKey(
        Aggregator,
        models.PROTECT,
        db_index=False,  # the transaction id's unique index starts with it
        related_name="transactions",
        verbose_name=_("aggregator contract"),
    )
    external_id = models.CharField(
        _("transaction id"), max_length=64, help_text=_("The aggregator's own transaction id.")
    )
    account_number = models.CharField(_("account number as received"), max_length=30)
    account = models.ForeignKey(
        "accounts.Account",
        models.PROTECT,
        related_name="online_transactions",
        verbose_name=_("personal account"),
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    fee = models.DecimalField(
        _("aggregator fee"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )
    period = models.DateField(
        _("period"),
        null=True,
        blank=True,
        help_text=_("The period the payer named (its first day), if any."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    created_at = models.DateTimeField(_("created at"))
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)
    payment = models.OneToOneField(
        "payments.Payment",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="online_transaction",
        verbose_name=_("payment"),
    )

    tenant_path = "tenant"
    account_path = "account"

    class Meta:
        verbose_name = _("online transaction")
        verbose_name_plural = _("online transactions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "created_at"], name="online_transaction_tenant_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregator", "external_id"],
                name="online_transaction_id_unique",
                violation_error_message=_("The aggregator has a transaction with this id."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="online_transaction_amount_positive",
                violation_error_message=_("A payment amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(fee__lte=F("amount")),
                name="online_transaction_fee_range",
                violation_error_message=_("The fee must be between zero and the amount."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="created", payment__isnull=True, performed_at__isnull=True)
                    & Q(cancelled_at__isnull=True)
                )
                | Q(
                    state="performed",
                    payment__isnull=False,
                    performed_at__isnull=False,
                    cancelled_at__isnull=True,
                )
                | Q(state="cancelled", cancelled_at__isnull=False),
                name="online_transaction_state_dates",
                violation_error_message=_("The transaction's dates do not fit its state."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.aggregator_id}:{self.external_id}"


class OnlineEvent(models.Model):
    """One request of an aggregator and what came of it (append-only): the audit trail of
    the online payments and the security log of refused requests."""

    class Operation(models.TextChoices):
        CHECK = "check", pgettext_lazy("online operation", "check")
        CREATE = "create", pgettext_lazy("online operation", "create")
        PERFORM = "perform", pgettext_lazy("online operation", "perform")
        CANCEL = "cancel", pgettext_lazy("online operation", "cancel")
        STATUS = "status", pgettext_lazy("online operation", "status")

    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("organisation"),
        help_text=_("Empty when the request named no known aggregator."),
    )
    aggregator = models.ForeignKey(
        Aggregator,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("aggregator contract"),
    )
    transaction = models.ForeignKey(
        OnlineTransaction,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("online transaction"),
    )
    operation = models.CharField(_("operation"), max_length=10, choices=Operation.choices)
    outcome = models.CharField(_("outcome"), max_length=40)
    security = models.BooleanField(
        _("security failure"),
        default=False,
        help_text=_("Refused before it reached the operation: unsigned, badly signed or stale."),
    )
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    body_sha256 = models.CharField(_("SHA-256 of the body"), max_length=64)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    at = models.DateTimeField(_("at"))
    details = models.JSONField(_("details"), default=dict, blank=True)

    tenant_path = "tenant"

    class Meta:
        verbose_name = _("online request")
        verbose_name_plural = _("online requests")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "at"], name="online_event_tenant_idx")]
        constraints = [AppendOnly(name="online_event_append_only")]

    def __str__(self) -> str:
        return f"{self.operation} {self.outcome}"
