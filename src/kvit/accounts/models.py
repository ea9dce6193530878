"""Personal accounts (лицевые счета), legal contracts and connected services (spec 1.4)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvit.core.dating import DateRange
from kvit.db.effective import EffectiveDated, effective_dating
from kvit.db.history import History
from kvit.db.tenancy import foreign_tenant_errors
from kvit.providers.validators import validate_inn, validate_kpp


class Account(models.Model):
    class ConsumerKind(models.TextChoices):
        HOUSEHOLD = "household", _("household")
        LEGAL = "legal", _("legal entity")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    number = models.CharField(_("account number"), max_length=30)
    premise = models.ForeignKey(
        "premises.Premise",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("premise"),
    )
    node = models.ForeignKey(
        "tenants.HierarchyNode",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("hierarchy node"),
        help_text=_("Where the account hangs in the tree, e.g. its feeder."),
    )
    consumer_kind = models.CharField(
        _("consumer"), max_length=10, choices=ConsumerKind.choices, default=ConsumerKind.HOUSEHOLD
    )
    payer = models.ForeignKey(
        "people.Person",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="paid_accounts",
        verbose_name=_("payer"),
    )
    share_numerator = models.PositiveIntegerField(
        _("share numerator"),
        default=1,
        help_text=_("A co-owner's separate account bills this share of the premise's area."),
    )
    share_denominator = models.PositiveIntegerField(_("share denominator"), default=1)
    opened_on = models.DateField(_("opened on"), help_text=_("First day the account is billed."))
    closed_on = models.DateField(
        _("closed on"),
        null=True,
        blank=True,
        help_text=_("“Closed from”: the first day the account is no longer billed."),
    )

    tenant_path = "tenant"
    history = History()
    account_path = "pk"

    class Meta:
        verbose_name = _("personal account")
        verbose_name_plural = _("personal accounts")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="accounts_number_unique"),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gt=F("opened_on")),
                name="accounts_dates_ordered",
                violation_error_message=_("“Closed on” must be later than “opened on”."),
            ),
            models.CheckConstraint(
                condition=Q(share_numerator__gt=0) & Q(share_numerator__lte=F("share_denominator")),
                name="accounts_share_range",
                violation_error_message=_("A share must be greater than 0 and at most 1."),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_numerator, self.share_denominator)

    @property
    def active_span(self) -> DateRange:
        return DateRange(self.opened_on, self.closed_on)

    def is_open_on(self, day: date) -> bool:
        return self.active_span.contains(day)

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "premise", "node", "payer")
        if self.consumer_kind == self.ConsumerKind.HOUSEHOLD and self.premise_id is None:
            errors["premise"] = ValidationError(_("A household account needs a premise."))
        if errors:
            raise ValidationError(errors)


class Contract(models.Model):
    """A legal consumer's supply contract (spec 7.1)."""

    class VoltageLevel(models.TextChoices):
        HV = "hv", _("high voltage (110 kV and above)")
        MV1 = "mv1", _("medium voltage I (35 kV)")
        MV2 = "mv2", _("medium voltage II (1–20 kV)")
        LV = "lv", _("low voltage (0.4 kV and below)")

    account = models.OneToOneField(
        Account, models.CASCADE, related_name="contract", verbose_name=_("personal account")
    )
    number = models.CharField(_("contract number"), max_length=40)
    signed_on = models.DateField(_("signed on"))
    organisation_name = models.CharField(_("organisation"), max_length=300)
    inn = models.CharField(_("INN"), max_length=12, validators=[validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    price_category = models.PositiveSmallIntegerField(
        _("price category"), default=1, choices=[(i, str(i)) for i in range(1, 7)]
    )
    voltage_level = models.CharField(
        _("voltage level"), max_length=4, choices=VoltageLevel.choices, default=VoltageLevel.LV
    )
    contracted_volume = models.DecimalField(
        _("contracted volume per month, kWh"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
    )

    tenant_path = "account__tenant"
    history = History()
    account_path = "account"

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return f"{self.number} {self.organisation_name}"

    def clean(self) -> None:
        if self.account_id and self.account.consumer_kind != Account.ConsumerKind.LEGAL:
            raise ValidationError({"account": _("Only a legal consumer's account has a contract.")})
        if self.inn and len(self.inn) == 10 and not self.kpp:
            raise ValidationError({"kpp": _("An organisation (10-digit INN) needs a KPP.")})


class AccountService(EffectiveDated):
    """A service connected to an account, owed to a provider, from a date."""

    account = models.ForeignKey(
        Account, models.CASCADE, related_name="services", verbose_name=_("personal account")
    )
    service = models.ForeignKey("tariffs.Service", models.PROTECT, verbose_name=_("service"))
    provider = models.ForeignKey("providers.Provider", models.PROTECT, verbose_name=_("provider"))
    tariff_group = models.CharField(_("tariff group"), max_length=40, blank=True)

    tenant_path = "account__tenant"
    history = History()
    account_path = "account"

    class Meta:
        verbose_name = _("connected service")
        verbose_name_plural = _("connected services")
        ordering = ["account", "service", "effective_from"]
        constraints = effective_dating("accounts_service", "account", "service")

    def __str__(self) -> str:
        return f"{self.service} → {self.provider}"

    def clean(self) -> None:
        account_tenant = self.account.tenant_id if self.account_id else None
        errors = foreign_tenant_errors(self, account_tenant, "service", "provider")
        if errors:
            raise ValidationError(errors)
