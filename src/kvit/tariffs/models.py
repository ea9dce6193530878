"""Services, effective-dated tariffs (with tiers and time-of-day zones) and norms (spec 1.7).

Tariffs and norms keep their published precision: 6 decimals, never rounded.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kvit.db.effective import EffectiveDated, effective_dating
from kvit.db.history import History
from kvit.db.tenancy import foreign_tenant_errors
from kvit.metering.resources import Resource, Zone


class Service(models.Model):
    class Unit(models.TextChoices):
        M3 = "m3", _("m³")
        KWH = "kwh", _("kWh")
        GCAL = "gcal", _("Gcal")
        M2 = "m2", _("m²")
        PERSON = "person", pgettext_lazy("unit of measure", "person")
        ACCOUNT = "account", _("account")

    class Method(models.TextChoices):
        METERED = "metered", _("by meter")
        NORM_PER_PERSON = "norm_per_person", _("norm per person")
        NORM_PER_AREA = "norm_per_area", _("norm per m²")
        PER_AREA = "per_area", _("money per m²")
        FIXED = "fixed", _("fixed per account")
        COMMON_HOUSE_BY_AREA = "common_house_by_area", _("common-house needs by area")
        HEATING_BY_AREA = "heating_by_area", _("heating by area")
        TIERED = "tiered", _("tiered")
        TIME_OF_USE = "time_of_use", _("time of use")

    class PenaltyScheme(models.TextChoices):
        NONE = "none", _("no penalties")
        HOUSING_RF = "housing_rf", _("housing (RF)")
        CAPITAL_REPAIR_RF = "capital_repair_rf", _("capital repair (RF)")
        RSO_FROM_UK_RF = "rso_from_uk_rf", _("resources bought by a management company (RF)")
        LEGAL_ELECTRICITY_RF = "legal_electricity_rf", _("legal consumers, electricity (RF)")
        CONTRACT_UZ = "contract_uz", _("contractual (UZ)")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    method = models.CharField(_("calculation method"), max_length=30, choices=Method.choices)
    resource = models.CharField(_("resource"), max_length=20, choices=Resource.choices, blank=True)
    provider = models.ForeignKey(
        "providers.Provider",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("default provider"),
    )
    absence_recalc_allowed = models.BooleanField(
        _("recalculated for temporary absence"), default=False
    )
    increase_coefficient_applies = models.BooleanField(
        _("increasing coefficient applies"), default=False
    )
    penalty_scheme = models.CharField(
        _("penalty scheme"),
        max_length=30,
        choices=PenaltyScheme.choices,
        default=PenaltyScheme.HOUSING_RF,
    )
    part_of_maintenance = models.BooleanField(
        _("billed inside maintenance"),
        default=False,
        help_text=_("Common-house consumption billed inside the maintenance fee."),
    )
    sort_order = models.PositiveSmallIntegerField(
        _("order"), default=100, help_text=_("Order on documents and in payment splits.")
    )

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="tariffs_service_code_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "provider")
        if self.method in {self.Method.METERED, self.Method.TIME_OF_USE} and not self.resource:
            errors["resource"] = ValidationError(_("A metered service needs a resource."))
        if errors:
            raise ValidationError(errors)


class Tariff(EffectiveDated):
    """Price of a service from a date. A flat tariff has a value; a tiered one has tiers; a
    time-of-use one has zones."""

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    service = models.ForeignKey(
        Service, models.PROTECT, related_name="tariffs", verbose_name=_("service")
    )
    group = models.CharField(
        _("tariff group"),
        max_length=40,
        blank=True,
        help_text=_("Empty for the service's general tariff; e.g. “electric_stove”."),
    )
    value = models.DecimalField(
        _("price per unit"),
        max_digits=18,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    vat_included = models.BooleanField(_("VAT included"), default=True)

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["service", "group", "effective_from"]
        constraints = [
            *effective_dating("tariffs_tariff", "service", "group"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0),
                name="tariffs_tariff_value_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.group} {self.effective_from}".replace("  ", " ")

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "service")
        if errors:
            raise ValidationError(errors)


class TariffTier(models.Model):
    tariff = models.ForeignKey(
        Tariff, models.CASCADE, related_name="tiers", verbose_name=_("tariff")
    )
    upper_bound = models.DecimalField(
        _("up to (per month)"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Empty for the last, open tier."),
    )
    value = models.DecimalField(
        _("price per unit"), max_digits=18, decimal_places=6, validators=[MinValueValidator(0)]
    )

    tenant_path = "tariff__tenant"
    history = History()

    class Meta:
        verbose_name = _("tariff tier")
        verbose_name_plural = _("tariff tiers")
        ordering = ["tariff", models.F("upper_bound").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "upper_bound"], name="tariffs_tier_bound_unique"
            ),
            models.UniqueConstraint(
                fields=["tariff"],
                condition=Q(upper_bound__isnull=True),
                name="tariffs_tier_one_open",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"≤ {self.upper_bound}: {self.value}"
            if self.upper_bound is not None
            else f"> : {self.value}"
        )


class TariffZone(models.Model):
    tariff = models.ForeignKey(
        Tariff, models.CASCADE, related_name="zones", verbose_name=_("tariff")
    )
    zone = models.CharField(_("zone"), max_length=10, choices=Zone.choices)
    value = models.DecimalField(
        _("price per unit"), max_digits=18, decimal_places=6, validators=[MinValueValidator(0)]
    )

    tenant_path = "tariff__tenant"
    history = History()

    class Meta:
        verbose_name = _("tariff zone")
        verbose_name_plural = _("tariff zones")
        constraints = [
            models.UniqueConstraint(fields=["tariff", "zone"], name="tariffs_zone_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_zone_display()}: {self.value}"


class Norm(EffectiveDated):
    """Consumption norm (норматив). Electricity norms depend on rooms and persons; 0 = any."""

    class Kind(models.TextChoices):
        PER_PERSON = "per_person", _("per person per month")
        PER_AREA = "per_area", _("per m² per month")
        PER_COMMON_AREA = "per_common_area", _("per m² of common area per month")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    service = models.ForeignKey(
        Service, models.PROTECT, related_name="norms", verbose_name=_("service")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    rooms = models.PositiveSmallIntegerField(
        _("rooms"), default=0, help_text=_("0 = any number of rooms.")
    )
    persons = models.PositiveSmallIntegerField(
        pgettext_lazy("number of", "persons"), default=0, help_text=_("0 = any number of persons.")
    )
    value = models.DecimalField(
        _("norm"), max_digits=18, decimal_places=6, validators=[MinValueValidator(0)]
    )

    tenant_path = "tenant"
    history = History()

    class Meta:
        verbose_name = _("norm")
        verbose_name_plural = _("norms")
        ordering = ["service", "kind", "rooms", "persons", "effective_from"]
        constraints = [
            *effective_dating("tariffs_norm", "service", "kind", "rooms", "persons"),
            models.CheckConstraint(
                condition=Q(value__gte=0), name="tariffs_norm_value_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.value} {self.get_kind_display()}"

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "service")
        if errors:
            raise ValidationError(errors)
