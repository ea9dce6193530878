"""Utility resources: what a meter measures and what a premise or building may lack a meter for."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kvit.core import codes


class Resource(models.TextChoices):
    COLD_WATER = "cold_water", _("cold water")
    HOT_WATER = "hot_water", _("hot water")
    ELECTRICITY = "electricity", _("electricity")
    HEAT = "heat", _("heat")
    GAS = "gas", _("gas")


class Zone(models.TextChoices):
    """Time-of-day registers of a meter (spec 2.12)."""

    TOTAL = "total", _("single rate")
    DAY = "day", _("day")
    NIGHT = "night", _("night")
    PEAK = "peak", _("peak")
    SEMIPEAK = "semipeak", _("semi-peak")


# The engine owns the table (which zones a meter with 1, 2 or 3 zones has); the models
# only add translatable labels to the same codes.
ZONES_BY_COUNT: dict[int, tuple[str, ...]] = {
    count: tuple(Zone(zone.value) for zone in zones)
    for count, zones in codes.ZONES_BY_COUNT.items()
}
