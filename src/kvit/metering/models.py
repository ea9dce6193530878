"""Meters and their readings (spec 1.8)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kvit.db.history import History
from kvit.db.tenancy import foreign_tenant_errors
from kvit.metering.resources import ZONES_BY_COUNT, Resource, Zone


class Meter(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("individual (ИПУ)")
        COMMON_APARTMENT = "common_apartment", _("common-apartment")
        ROOM = "room", _("room")
        COMMON_HOUSE = "common_house", _("common-house (ОДПУ)")
        FEEDER_HEAD = "feeder_head", _("feeder head meter")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        FAILED = "failed", _("failed")
        REMOVED = "removed", _("removed")

    PREMISE_KINDS = {Kind.INDIVIDUAL, Kind.COMMON_APARTMENT, Kind.ROOM}

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, verbose_name=_("organisation"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INDIVIDUAL)
    resource = models.CharField(_("resource"), max_length=20, choices=Resource.choices)
    serial_number = models.CharField(_("serial number"), max_length=40)
    premise = models.ForeignKey(
        "premises.Premise",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="meters",
        verbose_name=_("premise"),
    )
    building = models.ForeignKey(
        "premises.Building",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="common_meters",
        verbose_name=_("building"),
    )
    node = models.ForeignKey(
        "tenants.HierarchyNode",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="head_meters",
        verbose_name=_("hierarchy node"),
    )
    zones = models.PositiveSmallIntegerField(
        _("zones"), choices=[(1, "1"), (2, "2"), (3, "3")], default=1
    )
    integer_digits = models.PositiveSmallIntegerField(
        _("integer digits"), default=5, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    fraction_digits = models.PositiveSmallIntegerField(
        _("fraction digits"), default=3, validators=[MaxValueValidator(6)]
    )
    transform_ratio = models.DecimalField(
        _("transformer ratio"),
        max_digits=10,
        decimal_places=3,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("Current × voltage transformer ratio; 1 for a direct meter."),
    )
    installed_on = models.DateField(_("installed on"))
    verified_on = models.DateField(_("last verified on"), null=True, blank=True)
    verification_interval_years = models.PositiveSmallIntegerField(
        _("verification interval, years"), default=6
    )
    sealed_on = models.DateField(_("sealed on"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    failed_on = models.DateField(
        _("failed on"),
        null=True,
        blank=True,
        help_text=_("First day the meter no longer counted; readings from then on are not billed."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    tenant_path = "tenant"
    history = History()
    account_path = "premise__accounts"

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["resource", "serial_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True) | Q(removed_on__gte=F("installed_on")),
                name="metering_meter_removed_after_installed",
            ),
            models.CheckConstraint(
                condition=Q(transform_ratio__gt=0), name="metering_meter_ratio_positive"
            ),
            models.CheckConstraint(
                condition=Q(integer_digits__gte=1, integer_digits__lte=12, fraction_digits__lte=6),
                name="metering_meter_digits_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_resource_display()} № {self.serial_number}"

    @property
    def zone_codes(self) -> tuple[str, ...]:
        return ZONES_BY_COUNT.get(self.zones, ())

    @property
    def capacity(self) -> Decimal:
        """C = 10^integer_digits: the first value the display cannot show (spec 2.2)."""
        return Decimal(10) ** self.integer_digits

    @property
    def next_verification_due(self) -> date | None:
        return verification_due(self.verified_on, self.verification_interval_years)

    def clean(self) -> None:
        errors: dict[str, Any] = foreign_tenant_errors(
            self, self.tenant_id, "premise", "building", "node"
        )
        if self.kind in self.PREMISE_KINDS and self.premise_id is None:
            errors["premise"] = _("An individual, common-apartment or room meter needs a premise.")
        if self.kind == self.Kind.COMMON_HOUSE and self.building_id is None:
            errors["building"] = _("A common-house meter needs a building.")
        if self.kind == self.Kind.FEEDER_HEAD and self.node_id is None:
            errors["node"] = _("A feeder head meter needs a hierarchy node.")
        if self.removed_on and self.installed_on and self.removed_on < self.installed_on:
            errors["removed_on"] = _("A meter cannot be removed before it was installed.")
        if self.status == self.Status.FAILED and self.failed_on is None:
            errors["failed_on"] = _("A failed meter needs the date it failed.")
        if self.failed_on and self.installed_on and self.failed_on < self.installed_on:
            errors["failed_on"] = _("A meter cannot fail before it was installed.")
        if (self.status == self.Status.REMOVED) != (self.removed_on is not None):
            errors["status"] = _(
                "A meter has the status “removed” exactly when it has a removal date."
            )
        if self.zones is not None and self.zones > 1 and self.resource != Resource.ELECTRICITY:
            errors["zones"] = _("Only electricity meters have day/night zones.")
        if errors:
            raise ValidationError(errors)


class Reading(models.Model):
    class Source(models.TextChoices):
        CONSUMER = "consumer", _("consumer (cabinet)")
        METER_READER = "meter_reader", _("meter reader")
        OPERATOR = "operator", _("operator")
        BANK_REGISTRY = "bank_registry", _("bank registry")
        TELEMETRY = "telemetry", _("remote reading")
        IMPORT = "import", _("data import")

    class Kind(models.TextChoices):
        ACTUAL = "actual", _("actual")
        CONTROL = "control", _("control")
        INITIAL = "initial", _("initial")
        FINAL = "final", _("final")

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")
        AWAITING = "awaiting", _("awaiting confirmation")

    meter = models.ForeignKey(
        Meter, models.PROTECT, related_name="readings", verbose_name=_("meter")
    )
    zone = models.CharField(_("zone"), max_length=10, choices=Zone.choices, default=Zone.TOTAL)
    taken_on = models.DateField(_("date"))
    value = models.DecimalField(
        _("value"), max_digits=18, decimal_places=6, validators=[MinValueValidator(0)]
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.OPERATOR
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ACTUAL)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACCEPTED
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    tenant_path = "meter__tenant"
    history = History()
    account_path = "meter__premise__accounts"

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        ordering = ["meter", "zone", "taken_on", "id"]
        indexes = [
            models.Index(fields=["meter", "zone", "taken_on"], name="metering_reading_lookup_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=0), name="metering_reading_value_nonnegative"
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="metering_reading_rejection_has_reason",
                violation_error_message=_("A rejected reading needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter} {self.get_zone_display()} {self.taken_on}: {self.value}"

    def clean(self) -> None:
        if self.meter_id is None:
            return
        meter = self.meter
        errors: dict[str, Any] = {}
        if self.zone not in meter.zone_codes:
            errors["zone"] = _(
                "Meter %(meter)s has no zone “%(zone)s”; its zones are: %(zones)s."
            ) % {
                "meter": meter.serial_number,
                "zone": self.zone,
                "zones": ", ".join(str(Zone(z).label) for z in meter.zone_codes),
            }
        if self.value is not None:
            if self.value >= meter.capacity:
                errors["value"] = _(
                    "%(value)s does not fit the meter's %(digits)s integer digits "
                    "(must be below %(capacity)s)."
                ) % {
                    "value": self.value,
                    "digits": meter.integer_digits,
                    "capacity": meter.capacity,
                }
            elif self.value != self.value.quantize(
                Decimal(1).scaleb(-meter.fraction_digits), ROUND_DOWN
            ):
                errors["value"] = _(
                    "%(value)s has more decimals than the meter shows (%(digits)s)."
                ) % {
                    "value": self.value,
                    "digits": meter.fraction_digits,
                }
        if self.taken_on and meter.installed_on and self.taken_on < meter.installed_on:
            errors["taken_on"] = _("The meter was installed on %(day)s, after this date.") % {
                "day": meter.installed_on
            }
        if self.taken_on and meter.removed_on and self.taken_on > meter.removed_on:
            errors["taken_on"] = _("The meter was removed on %(day)s, before this date.") % {
                "day": meter.removed_on
            }
        if self.status == self.Status.REJECTED and not self.reason:
            errors["reason"] = _("A rejected reading needs a reason.")
        if errors:
            raise ValidationError(errors)


def verification_due(verified_on: date | None, interval_years: int) -> date | None:
    """The day a verification done on `verified_on` runs out (29 February → 28th)."""
    if verified_on is None:
        return None
    try:
        return verified_on.replace(year=verified_on.year + interval_years)
    except ValueError:  # 29 February
        return verified_on.replace(year=verified_on.year + interval_years, day=28)
