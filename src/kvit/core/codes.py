"""The engine's vocabulary: the same codes as the Django models' choices, without Django.

Every value here equals the database value of the matching `TextChoices` (resources, zones,
units, methods, meter and reading kinds …), so an app's `mapping.py` passes the stored text
straight through: `Resource(row.resource)`.
"""

from __future__ import annotations

from enum import StrEnum


class Resource(StrEnum):
    COLD_WATER = "cold_water"
    HOT_WATER = "hot_water"
    ELECTRICITY = "electricity"
    HEAT = "heat"
    GAS = "gas"


class Zone(StrEnum):
    """Time-of-day registers (spec 2.12); a single-rate meter has only `TOTAL`."""

    TOTAL = "total"
    DAY = "day"
    NIGHT = "night"
    PEAK = "peak"
    SEMIPEAK = "semipeak"


ZONES_BY_COUNT: dict[int, tuple[Zone, ...]] = {
    1: (Zone.TOTAL,),
    2: (Zone.DAY, Zone.NIGHT),
    3: (Zone.PEAK, Zone.SEMIPEAK, Zone.NIGHT),
}


class Unit(StrEnum):
    M3 = "m3"
    KWH = "kwh"
    GCAL = "gcal"
    M2 = "m2"
    PERSON = "person"
    ACCOUNT = "account"


class Method(StrEnum):
    """How a service is calculated (spec 1.7)."""

    METERED = "metered"
    NORM_PER_PERSON = "norm_per_person"
    NORM_PER_AREA = "norm_per_area"
    PER_AREA = "per_area"
    FIXED = "fixed"
    COMMON_HOUSE_BY_AREA = "common_house_by_area"
    HEATING_BY_AREA = "heating_by_area"
    TIERED = "tiered"
    TIME_OF_USE = "time_of_use"


class PenaltyScheme(StrEnum):
    NONE = "none"
    HOUSING_RF = "housing_rf"
    CAPITAL_REPAIR_RF = "capital_repair_rf"
    RSO_FROM_UK_RF = "rso_from_uk_rf"
    LEGAL_ELECTRICITY_RF = "legal_electricity_rf"
    CONTRACT_UZ = "contract_uz"


class NormKind(StrEnum):
    PER_PERSON = "per_person"
    PER_AREA = "per_area"
    PER_COMMON_AREA = "per_common_area"


class MeterKind(StrEnum):
    INDIVIDUAL = "individual"
    COMMON_APARTMENT = "common_apartment"
    ROOM = "room"
    COMMON_HOUSE = "common_house"
    FEEDER_HEAD = "feeder_head"


PREMISE_METER_KINDS = frozenset({MeterKind.INDIVIDUAL, MeterKind.COMMON_APARTMENT, MeterKind.ROOM})
"""Meters whose readings bill the premise's own consumption (2.1); the others are house or
feeder meters used by the common-house and balance rules."""


class MeterStatus(StrEnum):
    ACTIVE = "active"
    FAILED = "failed"
    REMOVED = "removed"


class ReadingKind(StrEnum):
    ACTUAL = "actual"
    CONTROL = "control"
    INITIAL = "initial"
    FINAL = "final"


class RegistrationKind(StrEnum):
    """All three count towards `n` (spec 1.6)."""

    PERMANENT = "permanent"
    TEMPORARY = "temporary"
    ACTUALLY_LIVING = "actually_living"


class PremiseKind(StrEnum):
    RESIDENTIAL = "residential"
    NON_RESIDENTIAL = "non_residential"


class ConsumerKind(StrEnum):
    HOUSEHOLD = "household"
    LEGAL = "legal"


class CommonMeter(StrEnum):
    """Whether a building has a common-house meter for a resource (spec 1.2)."""

    PRESENT = "present"
    ABSENT = "absent"
    IMPOSSIBLE = "impossible"


class HeatingScheme(StrEnum):
    CENTRAL = "central"
    INDIVIDUAL = "individual"
    NONE = "none"


class LineKind(StrEnum):
    """The ledger kinds the engine proposes (spec 1.9); payments and the rest are not its job."""

    CHARGE = "charge"
    RECALCULATION = "recalculation"
    BENEFIT = "benefit"
    QUALITY_REDUCTION = "quality_reduction"
    PENALTY = "penalty"


class Rule(StrEnum):
    """What produced a charge line: the key of its explanation (docs/engine.md).

    The first group is implemented; the rest are reserved so the rules that come later keep
    one vocabulary.
    """

    METERED = "metered"  # 2.1–2.3, 2.12, 2.13: reading differences × tariff
    SEWERAGE = "sewerage"  # 2.1: cold + hot volume × tariff
    NORM_PER_PERSON = "norm_per_person"  # 2.6, 1.6: norm × persons (person-days)
    NORM_COEFFICIENT = "norm_coefficient"  # 2.5: the (K − 1) surcharge line
    NORM_PER_AREA = "norm_per_area"  # 2.6, 2.9 without a house meter: norm × area
    PER_AREA = "per_area"  # 2.10: area × tariff
    FIXED = "fixed"  # one account × tariff
    TIER = "tier"  # 2.11: one marginal block
    # reserved for later rules
    AVERAGE = "average"  # 2.4
    TRUE_UP = "true_up"  # 2.7
    COMMON_HOUSE = "common_house"  # 2.8
    HEATING_BY_HOUSE_METER = "heating_by_house_meter"  # 2.9
    ABSENCE = "absence"  # 2.14
    QUALITY_REDUCTION = "quality_reduction"  # 2.15
    BENEFIT = "benefit"  # 2.16
    PENALTY = "penalty"  # 3.2
