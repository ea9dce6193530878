"""What the engine needs to rate one account for one period: frozen dataclasses, no Django.

The fetch step (each app's `mapping.py`) builds these from the database, one way only; the
engine never sees a model. Names and codes are the models' (`codes.py`). Every effective
range is half-open like `dating.DateRange` (ADR 1): `effective_to`, `removed_on` and the
account's `closed_on` are the first day that no longer counts.

Shared reference data (the service catalogue with its tariff and norm versions, a
building) is built once per chunk and the same objects are passed to every account's
`PeriodInputs`; nothing here is copied per account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from kvit.core.codes import (
    CommonMeter,
    ConsumerKind,
    HeatingScheme,
    LineKind,
    MeterKind,
    MeterStatus,
    Method,
    NormKind,
    PenaltyScheme,
    PremiseKind,
    ReadingKind,
    RegistrationKind,
    Resource,
    Unit,
    Zone,
)
from kvit.core.config import Config
from kvit.core.dating import DateRange
from kvit.core.periods import Period

ONE = Decimal(1)


def _span(start: date, end: date | None) -> DateRange:
    return DateRange(start, end)


# --- reference data: services, tariffs, norms ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ZonePrice:
    zone: Zone
    value: Decimal


@dataclass(frozen=True, slots=True)
class Tier:
    """A marginal block (spec 2.11): volume up to `upper_bound` per month, `None` = open.

    `value` is the tier's single-rate price; `zones` its prices per zone for a multi-zone
    meter (2.11 with 2.12), empty when the tier has one price for every zone.
    """

    upper_bound: Decimal | None
    value: Decimal
    zones: tuple[ZonePrice, ...] = ()

    def zone_value(self, zone: Zone) -> Decimal | None:
        """The price of a zone's volume in this tier: its zone price; `value` for the total
        register or when the tier has no zone prices; `None` when the zone has no price."""
        for price in self.zones:
            if price.zone is zone:
                return price.value
        return self.value if zone is Zone.TOTAL or not self.zones else None


@dataclass(frozen=True, slots=True)
class TariffVersion:
    """A price of a service from a date (`tariffs.Tariff` with its tiers and zones).

    A flat tariff has `value`; a tiered one has `tiers` in ascending bounds, the last open
    (with zone prices on its tiers when it also has zones, 2.11); a time-of-use one has
    `zones`. `group` is "" for the service's general tariff. A version with both `tiers`
    and `zones` cannot be priced (`tariff_tiers_and_zones`).
    """

    effective_from: date
    effective_to: date | None = None
    value: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    zones: tuple[ZonePrice, ...] = ()
    group: str = ""
    vat_included: bool = True

    @property
    def span(self) -> DateRange:
        return _span(self.effective_from, self.effective_to)

    @property
    def zoned_tiers(self) -> bool:
        """Some tier has zone prices: each zone is priced per tier (2.11)."""
        return any(tier.zones for tier in self.tiers)

    def zone_value(self, zone: Zone) -> Decimal | None:
        """The price for a register: its zone price, or the flat value for the total register."""
        for price in self.zones:
            if price.zone is zone:
                return price.value
        return self.value if zone is Zone.TOTAL else None


@dataclass(frozen=True, slots=True)
class NormVersion:
    """A consumption norm from a date (`tariffs.Norm`). `rooms`/`persons` 0 = any; a row for
    `persons = k` also serves more persons when no row for more exists (e.g. "5 and more")."""

    kind: NormKind
    value: Decimal
    effective_from: date
    effective_to: date | None = None
    rooms: int = 0
    persons: int = 0

    @property
    def span(self) -> DateRange:
        return _span(self.effective_from, self.effective_to)


@dataclass(frozen=True, slots=True)
class Service:
    """A service of the catalogue (`tariffs.Service`) with its tariff and norm versions.

    `summed_resources` makes the volume the sum of other resources' volumes (sewerage = cold
    + hot water, spec 2.1); the model has no such field yet, so the mapping sets it for the
    sewerage service.
    """

    code: str
    name: str
    unit: Unit
    method: Method
    resource: Resource | None = None
    summed_resources: tuple[Resource, ...] = ()
    absence_recalc_allowed: bool = False
    increase_coefficient_applies: bool = False
    penalty_scheme: PenaltyScheme = PenaltyScheme.HOUSING_RF
    part_of_maintenance: bool = False
    sort_order: int = 100
    tariffs: tuple[TariffVersion, ...] = ()
    norms: tuple[NormVersion, ...] = ()


# --- the account and what happens to it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectedService:
    """A service connected to the account (`accounts.AccountService`), owed to `provider`."""

    service: str
    provider: str
    effective_from: date
    effective_to: date | None = None
    tariff_group: str = ""

    @property
    def span(self) -> DateRange:
        return _span(self.effective_from, self.effective_to)


@dataclass(frozen=True, slots=True)
class Registration:
    """A person counted on the account (spec 1.6); every kind counts."""

    person: str
    effective_from: date
    effective_to: date | None = None
    kind: RegistrationKind = RegistrationKind.PERMANENT

    @property
    def span(self) -> DateRange:
        return _span(self.effective_from, self.effective_to)


@dataclass(frozen=True, slots=True)
class SocialArea:
    """The social norm of area (spec 2.16): `single` m² for one person, `couple` for two,
    `per_person` × n for three or more. The federal values are the default; a region (or a
    category) overrides them by passing its own."""

    single: Decimal = Decimal(33)
    couple: Decimal = Decimal(42)
    per_person: Decimal = Decimal(18)

    def for_family(self, persons: int) -> Decimal:
        if persons <= 1:
            return self.single
        if persons == 2:
            return self.couple
        return self.per_person * persons


FEDERAL_SOCIAL_AREA = SocialArea()


@dataclass(frozen=True, slots=True)
class BenefitGrant:
    """A beneficiary (spec 2.16): `rate` (0–1) of the base charge for the listed services.

    `person` matches a `Registration.person`: a grant counts on the days its person counts.
    `social_area` limits the area of area-based services (shared, one object per region).
    """

    person: str
    category: str
    rate: Decimal
    services: tuple[str, ...]
    effective_from: date
    effective_to: date | None = None
    social_area: SocialArea = FEDERAL_SOCIAL_AREA

    @property
    def span(self) -> DateRange:
        return _span(self.effective_from, self.effective_to)


@dataclass(frozen=True, slots=True)
class Absence:
    """A temporary absence (spec 2.14), one application: departure and arrival days are not
    full days. `person` matches a `Registration.person`. `filed_on` is the day the
    supporting documents were filed (`None`: not filed); they must come within 30 days of
    the return. An application covers at most 6 months from the departure."""

    person: str
    departure: date
    arrival: date
    filed_on: date | None = None


@dataclass(frozen=True, slots=True)
class Interruption:
    """An interruption of a service (spec 2.15), from `start` to `end`."""

    service: str
    start: datetime
    end: datetime
    planned_shutdown: bool = False  # the annual hot-water shutdown: its first 14 days excused
    accident_dead_end: bool = False  # a dead-end main's accident: 24 h allowed (per_event)


@dataclass(frozen=True, slots=True)
class AccessRefusal:
    """A recorded refusal of access for a meter check of `resource` (spec 2.4). Pass every
    one: from the period after the second, a norm that replaces an average takes
    `norm_coefficient_refused_access` (1.5)."""

    resource: Resource
    recorded_on: date


@dataclass(frozen=True, slots=True)
class CommonHouseVolume:
    """One resource's house-level figures for the period (spec 2.8, 2.9).

    `house_meter` is the common-house meter's volume; the individual volumes are the
    building's premises as billed this period (metered, average or norm), which the bill run
    sums in a first pass (`common_house.individual_volume`) before it rates the
    common-house services. `carried_negative` (≤ 0) is last month's `Rating.carried` for the
    resource (`negative_odn_mode = carry_forward`). Heating by a house meter (2.9) uses only
    `house_meter`.
    """

    resource: Resource
    house_meter: Decimal
    individual_residential: Decimal = Decimal(0)
    nonresidential: Decimal = Decimal(0)
    carried_negative: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Building:
    """What the common-house, heating and quality rules need (spec 1.2, 2.8, 2.9, 2.15).

    `heating_season`: the days heating is supplied, as the municipality's decree sets them
    (non-overlapping ranges); heating by area is billed only on those days. `None` means
    heating is billed on every day (billing evenly over 12 months, or no season given).
    `electricity_two_sources`: the building has two independent, mutually reserving power
    sources, which allows 2 h of interruptions a month instead of 24 h (2.15).
    """

    total_area: Decimal  # S_total: all residential and non-residential premises
    common_area: Decimal  # S_common
    heating_scheme: HeatingScheme = HeatingScheme.CENTRAL
    common_meters: Mapping[Resource, CommonMeter] = field(default_factory=dict)
    volumes: tuple[CommonHouseVolume, ...] = ()
    heating_season: tuple[DateRange, ...] | None = None
    electricity_two_sources: bool = False


@dataclass(frozen=True, slots=True)
class Account:
    """The account snapshot for the period (spec 1.3, 1.4): premise, people, events.

    `share` is the co-owner's exact share (`Fraction`), 1 for a whole premise; the account is
    billed as if its area were `area × share`.
    """

    number: str
    opened_on: date
    area: Decimal
    services: tuple[ConnectedService, ...] = ()
    closed_on: date | None = None
    share: Fraction = Fraction(1)
    premise_kind: PremiseKind = PremiseKind.RESIDENTIAL
    consumer_kind: ConsumerKind = ConsumerKind.HOUSEHOLD
    rooms: int = 1
    registrations: tuple[Registration, ...] = ()
    owners: int = 0  # used when nobody counts on a day (R354 p.56(2))
    benefits: tuple[BenefitGrant, ...] = ()
    absences: tuple[Absence, ...] = ()
    interruptions: tuple[Interruption, ...] = ()
    meter_impossible: frozenset[Resource] = frozenset()
    access_refusals: tuple[AccessRefusal, ...] = ()
    building: Building | None = None

    @property
    def active_span(self) -> DateRange:
        return _span(self.opened_on, self.closed_on)


# --- meters and readings --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter of the premise (spec 1.8). `serial` is the meter's key in readings and issues.

    `verification_due` is `next_verification_due`: a reading taken after it is not used.
    `failed_on` is the day the meter failed (status failed); readings after it are not used.
    """

    serial: str
    resource: Resource
    installed_on: date
    zones: tuple[Zone, ...] = (Zone.TOTAL,)
    kind: MeterKind = MeterKind.INDIVIDUAL
    integer_digits: int = 5
    fraction_digits: int = 3
    transform_ratio: Decimal = ONE
    removed_on: date | None = None
    verification_due: date | None = None
    status: MeterStatus = MeterStatus.ACTIVE
    failed_on: date | None = None

    @property
    def capacity(self) -> Decimal:
        """C = 10^integer_digits (spec 2.2)."""
        return Decimal(10) ** self.integer_digits


@dataclass(frozen=True, slots=True)
class Reading:
    """An accepted reading (`metering.Reading` with status accepted) of one register."""

    meter: str
    zone: Zone
    taken_on: date
    value: Decimal
    kind: ReadingKind = ReadingKind.ACTUAL


# --- what was posted, and the whole input ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostedLine:
    """A ledger entry already posted for the account and period, for recompute-and-diff.

    The identifying fields match `ChargeLine.key`, so a later diff pairs them one to one.
    """

    provider: str
    service: str
    period: Period
    kind: LineKind
    amount: Decimal
    quantity: Decimal
    rule: str = ""
    zone: str = ""
    tier: int = 0
    span_from: date | None = None
    span_to: date | None = None
    entry: str = ""  # the ledger entry's id


@dataclass(frozen=True, slots=True)
class PeriodInputs:
    """Everything one account's period needs. `services` maps a code to the catalogue entry
    (one shared dict per chunk). `readings` hold every register's history the fetch step
    loaded (at least the last reading before the period, or the initial one)."""

    period: Period
    account: Account
    services: Mapping[str, Service]
    config: Config
    meters: tuple[Meter, ...] = ()
    readings: tuple[Reading, ...] = ()
    posted: tuple[PostedLine, ...] = ()
