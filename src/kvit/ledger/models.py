"""The append-only ledger, billing periods and the cached balances (spec 1.9).

Sign convention: an entry's `amount` is what it adds to the account's debt to the provider.
Charges and penalties are positive; payments, benefits, quality reductions and write-offs
are negative; a recalculation, a transfer or an opening balance has either sign; a reversal
is the negation of the entry it reverses. The balance is the sum of the amounts: positive is
a debt, negative an advance.

Entries are never changed or deleted (`AppendOnly`: the database refuses). A correction is a
new entry that points at what it corrects:

* a reversal (сторно): kind `reversal`, `corrects` = the reversed entry, the negated amount;
* a correction of a closed period P (recompute-and-diff of P after it was closed): posted in
  an open period with `corrects_period` = P, the kind and line key of the line it corrects,
  and `corrects` = the posted entry it corrects if there is one. Reports show entries with a
  `corrects_period` as recalculations of the period they are posted in.

The engine's own recalculation lines of a period (a true-up, an absence) belong to that
period: their `corrects_period` is empty (the explanation names the period they settle).
Charges may be negative in a correction; the sign convention is about what the amount does.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.core.codes import LineKind
from kvit.core.periods import Period
from kvit.db.append_only import AppendOnly
from kvit.db.history import History
from kvit.db.references import References
from kvit.db.tenancy import foreign_tenant_errors
from kvit.tariffs.models import Service

CENT = Decimal("0.01")
ENGINE_KINDS = frozenset(kind.value for kind in LineKind)
"""The kinds the engine proposes: the lines recompute-and-diff compares."""


def is_first_of_month(day: date | None) -> bool:
    return day is None or day.day == 1


class BillingPeriod(models.Model):
    """A tenant's calendar month; entries are posted only into an open one.

    Periods are closed in order and never reopened: the closed periods of a tenant are all
    earlier than its open ones (kvit.ledger.actions).
    """

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("billing period", "open")
        CLOSED = "closed", pgettext_lazy("billing period", "closed")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    period = models.DateField(_("period"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("billing period")
        verbose_name_plural = _("billing periods")
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period"], name="ledger_period_unique"),
            models.CheckConstraint(
                condition=Q(period__day=1),
                name="ledger_period_first_day",
                violation_error_message=_("A period is given by the first day of its month."),
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="ledger_period_closed_at",
                violation_error_message=_("A closed period needs the time it was closed."),
            ),
        ]

    def __str__(self) -> str:
        return str(Period.of(self.period)) if self.period else ""

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class LedgerEntry(models.Model):
    """One immutable money movement on an account, owed to a provider (spec 1.9)."""

    class Kind(models.TextChoices):
        # The first five are the engine's (kvit.core.codes.LineKind), with the same values.
        CHARGE = "charge", _("charge")
        RECALCULATION = "recalculation", _("recalculation")
        BENEFIT = "benefit", _("benefit")
        QUALITY_REDUCTION = "quality_reduction", _("quality reduction")
        PENALTY = "penalty", _("penalty")
        PAYMENT = "payment", _("payment")
        REVERSAL = "reversal", _("reversal")
        TRANSFER = "transfer", _("transfer")
        WRITE_OFF = "write_off", _("write-off")
        OPENING_BALANCE = "opening_balance", _("opening balance")

    # The references are checked per statement (`References` below, ADR 5), not per row.
    tenant = models.ForeignKey(
        "tenants.Tenant",
        models.PROTECT,
        db_index=False,
        db_constraint=False,
        verbose_name=_("organisation"),
    )
    account = models.ForeignKey(
        "accounts.Account",
        models.PROTECT,
        db_index=False,  # the account-period index starts with it
        db_constraint=False,
        related_name="ledger_entries",
        verbose_name=_("personal account"),
    )
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("provider"),
    )
    service = models.ForeignKey(
        "tariffs.Service",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
        help_text=_("Empty for an entry not tied to a service, e.g. an unsplit payment."),
    )
    period = models.DateField(
        _("period"), help_text=_("The month the obligation belongs to (its first day).")
    )
    posted_on = models.DateField(_("posted on"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Positive increases the debt (charges), negative decreases it (payments)."),
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Service.Unit.choices, blank=True)
    tariff = models.DecimalField(
        _("tariff"), max_digits=16, decimal_places=6, null=True, blank=True
    )
    # What identifies an engine line for recompute-and-diff (kvit.core.lines.ChargeLine.key).
    rule = models.CharField(_("rule"), max_length=40, blank=True)
    zone = models.CharField(_("zone"), max_length=40, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), default=0)
    span_from = models.DateField(_("covers from"), null=True, blank=True)
    span_to = models.DateField(
        _("covers to"), null=True, blank=True, help_text=_("The first day no longer covered.")
    )
    explanation = models.JSONField(
        _("explanation"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    corrects = models.ForeignKey(
        "self",
        models.PROTECT,
        db_constraint=False,  # checked per statement (Meta), as the others
        null=True,
        blank=True,
        db_index=False,  # a partial index (Meta): most entries correct nothing
        related_name="corrections",
        verbose_name=_("corrects"),
        help_text=_("The entry this one corrects."),
    )
    corrects_period = models.DateField(
        _("corrects period"),
        null=True,
        blank=True,
        help_text=_(
            "For a correction of a closed period: that period. The entry counts for it when "
            "the period is recomputed."
        ),
    )
    reason = models.TextField(_("reason"), blank=True)
    source_kind = models.CharField(
        _("source document"), max_length=20, blank=True, help_text=_("e.g. bill_run, payment.")
    )
    source_id = models.CharField(_("source document id"), max_length=64, blank=True)
    # The bill run that posted the entry; a foreign key once bill runs exist.
    run_id = models.BigIntegerField(_("bill run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        "users.User",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,  # a partial index (Meta): a bill run's entries have no author
        related_name="+",
        verbose_name=_("created by"),
    )

    tenant_path = "tenant"
    account_path = "account"

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-id"]
        indexes = [
            # An account's entries of a period and later: what recompute-and-diff reads
            # (`posted_lines_of`: `period >= P`), without the account's older history.
            models.Index(fields=["account", "period"], name="ledger_entry_account_idx"),
            models.Index(fields=["tenant", "period"], name="ledger_entry_tenant_period_idx"),
            # Entries by accounting date: the turnover statement's entries posted since a
            # date (kvit.reports.turnover), the first and last posting dates.
            models.Index(fields=["tenant", "posted_on"], name="ledger_entry_tenant_posted_idx"),
            # Partial: the bill run writes millions of entries with neither, and an index
            # entry per row cost 15 % of the ledger's COPY. A lookup by a value (an entry's
            # corrections, the entries of a user being deleted) implies NOT NULL.
            models.Index(
                fields=["corrects"],
                condition=Q(corrects__isnull=False),
                name="ledger_entry_corrects_idx",
            ),
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="ledger_entry_created_by_idx",
            ),
        ]
        constraints = [
            AppendOnly(name="ledger_entry_append_only"),
            References(
                name="ledger_entry_references",
                fields=["tenant", "account", "provider", "service", "corrects"],
                tenant="tenant",
            ),
            # Apart: an author has no organisation when a superuser.
            References(name="ledger_entry_author", fields=["created_by"]),
            models.CheckConstraint(
                condition=Q(period__day=1),
                name="ledger_entry_period_first_day",
                violation_error_message=_("A period is given by the first day of its month."),
            ),
            models.CheckConstraint(
                condition=Q(corrects_period__isnull=True)
                | Q(corrects_period__day=1, corrects_period__lt=F("period")),
                name="ledger_entry_corrects_earlier_period",
                violation_error_message=_(
                    "A corrected period is the first day of a month before the entry's period."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(corrects__isnull=False),
                name="ledger_entry_reversal_names_entry",
                violation_error_message=_("A reversal names the entry it reverses."),
            ),
            models.CheckConstraint(
                condition=Q(span_from__isnull=True)
                | Q(span_to__isnull=True)
                | Q(span_to__gt=F("span_from")),
                name="ledger_entry_span_ordered",
                violation_error_message=_("“Covers to” must be later than “covers from”."),
            ),
            models.UniqueConstraint(
                fields=["corrects"],
                condition=Q(kind="reversal"),
                name="ledger_entry_reversed_once",
                violation_error_message=_("This entry has already been reversed."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    @property
    def obligation_period(self) -> date:
        """The period the entry counts for in recompute-and-diff: the corrected one, if any."""
        return self.corrects_period or self.period

    def clean(self) -> None:
        errors = {
            **foreign_tenant_errors(self, self.tenant_id, "account", "provider", "service"),
            **self.row_errors(),
        }
        if errors:
            raise ValidationError(errors)

    def row_errors(self) -> dict[str, ValidationError]:
        """What is wrong with the row by itself, without a query (`post_entries` checks the
        references of a whole batch at once)."""
        errors: dict[str, ValidationError] = {}
        for name in ("period", "corrects_period"):
            if not is_first_of_month(getattr(self, name)):
                errors[name] = ValidationError(
                    _("A period is given by the first day of its month.")
                )
        if self.corrects_period and self.period and self.corrects_period >= self.period:
            errors["corrects_period"] = ValidationError(
                _("A correction posted in %(period)s corrects an earlier period."),
                params={"period": Period.of(self.period)},
            )
        if self.kind == self.Kind.REVERSAL and self.corrects_id is None:
            errors["corrects"] = ValidationError(_("A reversal names the entry it reverses."))
        if self.span_from and self.span_to and self.span_to <= self.span_from:
            errors["span_to"] = ValidationError(_("“Covers to” must be later than “covers from”."))
        return errors


class AccountBalance(models.Model):
    """The sum of an account's entries per provider and service: a cache, kept by
    `post_entries` in the same transaction, rebuildable with `rebuild_balances` and checked
    by `balance_mismatches`. The entries are the truth."""

    # Checked per statement like the entries' (`References`, ADR 5); a balance exists only
    # for entries, which protect what they refer to anyway.
    account = models.ForeignKey(
        "accounts.Account",
        models.PROTECT,
        db_index=False,  # the unique constraints start with it
        db_constraint=False,
        related_name="balances",
        verbose_name=_("personal account"),
    )
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("provider"),
    )
    service = models.ForeignKey(
        "tariffs.Service",
        models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0.00")
    )

    tenant_path = "account__tenant"
    account_path = "account"

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")
        constraints = [
            References(name="ledger_balance_references", fields=["account", "provider", "service"]),
            # Two partial constraints: a unique constraint treats NULLs as distinct.
            models.UniqueConstraint(
                fields=["account", "provider", "service"],
                condition=Q(service__isnull=False),
                name="ledger_balance_unique",
            ),
            models.UniqueConstraint(
                fields=["account", "provider"],
                condition=Q(service__isnull=True),
                name="ledger_balance_unique_no_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount}"
