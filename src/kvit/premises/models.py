"""Buildings and premises with their areas (spec 1.2, 1.3)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvit.db.history import History
from kvit.db.tenancy import foreign_tenant_errors
from kvit.metering.resources import Resource

POSITIVE_AREA = MinValueValidator(Decimal("0.01"), _("An area must be greater than zero."))


class Building(models.Model):
    class ManagementMethod(models.TextChoices):
        MANAGEMENT_COMPANY = "management_company", _("management company")
        HOA = "hoa", _("homeowners' association")
        DIRECT = "direct", _("direct management by owners")

    class HeatingScheme(models.TextChoices):
        CENTRAL = "central", _("central heating")
        INDIVIDUAL = "individual", _("individual heating")
        NONE = "none", _("no heating service")

    class CapitalRepairFund(models.TextChoices):
        REGIONAL_OPERATOR = "regional_operator", _("regional operator")
        SPECIAL_ACCOUNT = "special_account", _("special account")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    node = models.ForeignKey(
        "tenants.HierarchyNode",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("hierarchy node"),
    )
    address = models.CharField(_("address"), max_length=300)
    fias_id = models.CharField(
        _("federal address-registry id"),
        max_length=36,
        blank=True,
        help_text=_("FIAS/GAR identifier of the building, if known."),
    )
    management_method = models.CharField(
        _("management method"),
        max_length=30,
        choices=ManagementMethod.choices,
        default=ManagementMethod.MANAGEMENT_COMPANY,
    )
    total_area = models.DecimalField(
        _("total area, m²"),
        max_digits=12,
        decimal_places=2,
        validators=[POSITIVE_AREA],
        help_text=_(
            "All residential and non-residential premises: the denominator of area shares."
        ),
    )
    common_area = models.DecimalField(
        _("common area, m²"),
        max_digits=12,
        decimal_places=2,
        validators=[POSITIVE_AREA],
        help_text=_("Common-use premises: the base of normative common-house consumption."),
    )
    heating_scheme = models.CharField(
        _("heating scheme"),
        max_length=20,
        choices=HeatingScheme.choices,
        default=HeatingScheme.CENTRAL,
    )
    capital_repair_fund = models.CharField(
        _("capital repair fund"),
        max_length=30,
        choices=CapitalRepairFund.choices,
        default=CapitalRepairFund.REGIONAL_OPERATOR,
    )
    due_day = models.PositiveSmallIntegerField(
        _("payment due day"),
        null=True,
        blank=True,
        help_text=_("Overrides the due day for periods before March 2026 (spec 3.1)."),
    )

    tenant_path = "tenant"
    history = History()
    account_path = "premises__accounts"

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["address"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_area__gt=0), name="premises_building_total_area_positive"
            ),
            models.CheckConstraint(
                condition=Q(common_area__gt=0), name="premises_building_common_area_positive"
            ),
            models.CheckConstraint(
                condition=Q(due_day__isnull=True) | Q(due_day__gte=1, due_day__lte=28),
                name="premises_building_due_day_range",
            ),
        ]

    def __str__(self) -> str:
        return self.address

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "node")
        if self.due_day is not None and not 1 <= self.due_day <= 28:
            errors["due_day"] = ValidationError(_("The due day must be between 1 and 28."))
        if errors:
            raise ValidationError(errors)


class CommonMeter(models.TextChoices):
    PRESENT = "present", _("installed")
    ABSENT = "absent", _("not installed")
    IMPOSSIBLE = "impossible", _("technically impossible")


class BuildingResource(models.Model):
    """Whether the building has a common-house meter (ОДПУ) for a resource."""

    building = models.ForeignKey(
        Building, models.CASCADE, related_name="resources", verbose_name=_("building")
    )
    resource = models.CharField(_("resource"), max_length=20, choices=Resource.choices)
    common_meter = models.CharField(
        _("common-house meter"), max_length=20, choices=CommonMeter.choices
    )

    tenant_path = "building__tenant"
    history = History()

    class Meta:
        verbose_name = _("building resource")
        verbose_name_plural = _("building resources")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "resource"], name="premises_building_resource_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_resource_display()}: {self.get_common_meter_display()}"


class Premise(models.Model):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        NON_RESIDENTIAL = "non_residential", _("non-residential")

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    building = models.ForeignKey(
        Building, models.PROTECT, related_name="premises", verbose_name=_("building")
    )
    node = models.ForeignKey(
        "tenants.HierarchyNode",
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("hierarchy node"),
        help_text=_("For example the entrance or the feeder."),
    )
    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.RESIDENTIAL
    )
    area = models.DecimalField(
        _("total area, m²"), max_digits=10, decimal_places=2, validators=[POSITIVE_AREA]
    )
    living_area = models.DecimalField(
        _("living area, m²"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[POSITIVE_AREA],
    )
    rooms = models.PositiveSmallIntegerField(_("rooms"), default=1)
    communal_flat = models.BooleanField(_("communal flat"), default=False)

    tenant_path = "tenant"
    history = History()
    account_path = "accounts"

    class Meta:
        verbose_name = _("premise")
        verbose_name_plural = _("premises")
        ordering = ["building", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"], name="premises_premise_number_unique"
            ),
            models.CheckConstraint(condition=Q(area__gt=0), name="premises_premise_area_positive"),
            models.CheckConstraint(
                condition=Q(living_area__isnull=True)
                | (Q(living_area__gt=0) & Q(living_area__lte=F("area"))),
                name="premises_premise_living_area_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building.address}, {self.number}"

    def clean(self) -> None:
        errors = foreign_tenant_errors(self, self.tenant_id, "building", "node")
        if self.living_area is not None and self.area is not None and self.living_area > self.area:
            errors["living_area"] = ValidationError(
                _("The living area cannot exceed the total area.")
            )
        if errors:
            raise ValidationError(errors)


class MeterImpossibility(models.Model):
    """An inspection act saying an individual meter cannot be installed (spec 1.3, 2.5)."""

    premise = models.ForeignKey(
        Premise, models.CASCADE, related_name="meter_impossibilities", verbose_name=_("premise")
    )
    resource = models.CharField(_("resource"), max_length=20, choices=Resource.choices)
    act_number = models.CharField(_("act number"), max_length=40)
    act_on = models.DateField(_("act date"))

    tenant_path = "premise__tenant"
    history = History()
    account_path = "premise__accounts"

    class Meta:
        verbose_name = _("meter technically impossible")
        verbose_name_plural = _("meters technically impossible")
        constraints = [
            models.UniqueConstraint(
                fields=["premise", "resource"], name="premises_meter_impossible_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_resource_display()}: {self.act_number}"
