"""ORM rows → engine inputs, one way only (architecture §1: fetch).

`Catalogue.load(tenant, period)` reads what every account of a run shares — the services
with their tariff and norm versions, benefit categories, the tenant's configuration — once
per run. `fetch(catalogue, account_ids)` then turns a chunk of accounts into `PeriodInputs`
in a fixed number of queries (`QUERIES_PER_CHUNK`), whatever the chunk's size: rows are read
with `values_list` and grouped in memory, never one query per account.

Identifiers cross the boundary as text: the engine's account is the account number, its
provider the provider's primary key, its service the service code and its meter the serial
number. `Chunk` keeps the maps back to primary keys for the persist step.

What the models do not hold yet reaches the engine empty: interruptions, access refusals,
common-house volumes and heating seasons (the engine reports what it then cannot
compute as issues, e.g. a house meter without its volume).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import F, Q, QuerySet

from kvit.accounts.models import Account as AccountRow
from kvit.accounts.models import AccountService
from kvit.core import inputs as core
from kvit.core.codes import (
    CommonMeter,
    ConsumerKind,
    HeatingScheme,
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
from kvit.core.common_house import NOT_INDIVIDUAL
from kvit.core.config import Config, config_on
from kvit.core.consumption import Cutoffs
from kvit.core.periods import Period
from kvit.db.effective import concrete_field
from kvit.db.prepared import prepared
from kvit.ledger.queries import posted_house_volumes
from kvit.metering.models import Meter as MeterRow
from kvit.metering.models import Reading as ReadingRow
from kvit.metering.models import verification_due
from kvit.metering.resources import ZONES_BY_COUNT
from kvit.parameters.models import Parameter
from kvit.people.models import Absence, Benefit, BenefitCategory, Ownership, Registration
from kvit.premises.models import Building, BuildingResource, MeterImpossibility
from kvit.tariffs.models import Norm, Service, Tariff, TariffTier, TariffZone

QUERIES_PER_CHUNK = 15
"""Accounts, connected services, registrations, owners, benefits, temporary absences, meters,
recent readings, older readings (only when some register needs them), meter impossibilities,
the buildings with their common-house meter flags, and the house meters with their readings
(only for buildings that have one): the fetch's whole cost per chunk, at most (a test counts
them)."""


def lookback_months(config: Config) -> int:
    """How far back readings are loaded: the averaging rules look back at most twice the
    averaging window (2.4), plus the period before it for the start reading."""
    return 2 * config.avg_window_months + 2


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What every account of one tenant's run shares (loaded once per run)."""

    tenant_id: int
    period: Period
    config: Config
    services: dict[str, core.Service]  # by code
    service_codes: dict[int, str]  # service pk → code
    service_ids: dict[str, int]  # code → service pk
    categories: dict[int, tuple[str, Decimal, tuple[str, ...]]]  # pk → code, rate, services

    @classmethod
    def load(cls, tenant_id: int, period: Period) -> Catalogue:
        """The tenant's catalogue for `period`: read from the database, or the one read
        before while the tenant's reference data are unchanged (`reference_stamp`)."""
        stamp = reference_stamp(tenant_id)
        key = (connection.settings_dict["NAME"], tenant_id, period)
        kept = _LOADED.get(key)
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        catalogue = cls.read(tenant_id, period)
        if stamp is not None:
            if len(_LOADED) >= LOADED_MAX:
                _LOADED.clear()
            _LOADED[key] = (stamp, catalogue)
        return catalogue

    @classmethod
    def read(cls, tenant_id: int, period: Period) -> Catalogue:
        """The tenant's catalogue for `period`, read from the database (eight queries)."""
        config = config_of(tenant_id, period)
        services = _services(tenant_id, period)
        return cls(
            tenant_id,
            period,
            config,
            {service.code: service for service in services.values()},
            {pk: service.code for pk, service in services.items()},
            {service.code: pk for pk, service in services.items()},
            _categories(tenant_id, {pk: service.code for pk, service in services.items()}),
        )


LOADED_MAX = 64  # catalogues kept: (database, tenant, period) triples in use at once
_LOADED: dict[tuple[str, int, Period], tuple[str, Catalogue]] = {}
# What `Catalogue.read` reads, each table with the foreign key that leads to its tenant
# (None: its own `tenant` column).
REFERENCE_DATA: tuple[tuple[type[models.Model], str | None], ...] = (
    (Parameter, None),
    (Service, None),
    (Tariff, None),
    (TariffTier, "tariff"),
    (TariffZone, "tariff"),
    (Norm, None),
    (BenefitCategory, None),
    (BenefitCategory.services.through, "benefitcategory"),
)


def reference_stamp(tenant_id: int) -> str | None:
    """A digest of every row `Catalogue.read` reads for the tenant, in one query: equal
    stamps, equal catalogues. So a cached catalogue is never stale, whatever changed the
    rows (a form, a migration, another process) and whether it was committed or not.

    [ASSUMPTION] Worth its query on the real-time path: the stamp takes a fraction of a
    millisecond where reading the catalogue takes about 6 ms. PostgreSQL only (it hashes
    rows as text with md5); elsewhere None, and the catalogue is read every time."""
    if connection.vendor != "postgresql":
        return None
    sql = _stamp_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id] * len(REFERENCE_DATA))
        (stamp,) = cursor.fetchone()
    return str(stamp)


@cache
def _stamp_sql() -> str:
    quote = connection.ops.quote_name
    parts = []
    for model, via in REFERENCE_DATA:
        table = quote(model._meta.db_table)
        if via is None:
            scope = f"FROM {table} t WHERE t.tenant_id = %s"
        else:
            link = concrete_field(model, via)
            parent = quote(link.related_model._meta.db_table)  # type: ignore[union-attr]
            scope = (
                f"FROM {table} t JOIN {parent} p ON p.id = t.{quote(link.column)} "
                "WHERE p.tenant_id = %s"
            )
        digest = f"(SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) {scope})"
        parts.append(f"coalesce({digest}, '')")  # an empty table keeps its place
    return f"SELECT concat_ws('/', {', '.join(parts)})"


def config_of(tenant_id: int, period: Period) -> Config:
    """The tenant's section-10 configuration in force on the period's first day."""
    day = period.first_day
    overrides = dict(
        Parameter.objects.filter(tenant_id=tenant_id, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
        .values_list("name", "value")
    )
    return config_on(day, overrides)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A chunk's engine inputs and the maps back from the engine's text ids to rows."""

    inputs: tuple[core.PeriodInputs, ...]
    account_ids: dict[str, int]  # account number → pk
    tenant_id: int
    buildings: tuple[int | None, ...] = ()  # each input's building (pk), for the house rules
    houses: dict[int, House] = field(default_factory=dict)  # buildings with a house meter

    @property
    def building_of(self) -> dict[str, int | None]:
        """Each account's building (pk) by account number (`account_ids` and `buildings`
        are in the same order)."""
        return dict(zip(self.account_ids, self.buildings, strict=True))


@dataclass(frozen=True, slots=True)
class House:
    """A building's common-house meters and their readings (spec 2.8, 2.9)."""

    meters: tuple[core.Meter, ...]
    readings: tuple[core.Reading, ...]


def _in_period(first: date, end: date) -> Q:
    """Effective-dated rows in force on some day of [first, end)."""
    return Q(effective_from__lt=end) & (Q(effective_to__isnull=True) | Q(effective_to__gt=first))


# The fetch's queries, each compiled once per process (`kvit.db.prepared`).


@prepared
def _account_rows(ids: list[int], tenant_id: int) -> QuerySet[Any, Any]:
    return (
        AccountRow.objects.filter(pk__any_of=ids, tenant_id=tenant_id)
        .order_by("pk")
        .values_list(
            "pk",
            "number",
            "opened_on",
            "closed_on",
            "share_numerator",
            "share_denominator",
            "consumer_kind",
            "premise_id",
            "premise__kind",
            "premise__area",
            "premise__rooms",
            "premise__building_id",
        )
    )


@prepared
def _connected_rows(ids: list[int], first: date, end: date) -> QuerySet[Any, Any]:
    return (
        AccountService.objects.filter(_in_period(first, end), account_id__any_of=ids)
        .order_by("account_id", "service_id", "effective_from")
        .values_list(
            "account_id",
            "service_id",
            "provider_id",
            "effective_from",
            "effective_to",
            "tariff_group",
        )
    )


@prepared
def _registration_rows(ids: list[int], first: date, end: date) -> QuerySet[Any, Any]:
    return (
        Registration.objects.filter(_in_period(first, end), account_id__any_of=ids)
        .order_by("account_id", "effective_from", "person_id")
        .values_list("account_id", "person_id", "effective_from", "effective_to", "kind")
    )


@prepared
def _owner_rows(premises: list[int], first: date, end: date) -> QuerySet[Any, Any]:
    owners = Ownership.objects.filter(_in_period(first, end), premise_id__any_of=premises)
    return owners.values_list("premise_id", "owner_id")


@prepared
def _benefit_rows(ids: list[int], first: date, end: date) -> QuerySet[Any, Any]:
    return (
        Benefit.objects.filter(_in_period(first, end), account_id__any_of=ids)
        .order_by("account_id", "effective_from", "person_id")
        .values_list("account_id", "person_id", "category_id", "effective_from", "effective_to")
    )


@prepared
def _meter_rows(premises: list[int], first: date) -> QuerySet[Any, Any]:
    return (
        MeterRow.objects.filter(premise_id__any_of=premises, kind__in=MeterRow.PREMISE_KINDS)
        .filter(Q(removed_on__isnull=True) | Q(removed_on__gt=first))
        .order_by("premise_id", "installed_on", "pk")
        .values_list("premise_id", *METER_COLUMNS)
    )


@prepared
def _impossible_rows(premises: list[int]) -> QuerySet[Any, Any]:
    return MeterImpossibility.objects.filter(premise_id__any_of=premises).values_list(
        "premise_id", "resource"
    )


def fetch(catalogue: Catalogue, account_ids: Sequence[int]) -> Chunk:
    """`PeriodInputs` for `account_ids` (one tenant), in `QUERIES_PER_CHUNK` queries."""
    period = catalogue.period
    first, end = period.first_day, period.end
    rows = _account_rows(list(account_ids), catalogue.tenant_id)
    ids = [row[0] for row in rows]
    premises = list({row[7] for row in rows if row[7] is not None})
    connected = _group(_connected_rows(ids, first, end))
    registrations = _group(_registration_rows(ids, first, end))
    owners: dict[int, set[int]] = defaultdict(set)
    for premise, owner in _owner_rows(premises, first, end):
        owners[premise].add(owner)
    benefits = _group(_benefit_rows(ids, first, end))
    absences = _absences(ids, period)
    meters = _group(_meter_rows(premises, first))
    recent = _months_before(first, RECENT_MONTHS)

    def lately(start: date, stop: date | None) -> bool:
        return start >= recent or (stop is not None and stop < end)

    moving = {  # premises with an account or a service starting or ending lately
        row[7]
        for row in rows
        if lately(row[2], row[3]) or any(lately(c[2], c[3]) for c in connected.get(row[0], ()))
    }
    readings = _readings(catalogue, meters, moving)
    impossible = _group(_impossible_rows(premises))
    buildings = _buildings({row[11] for row in rows if row[11] is not None})
    inputs = []
    for (
        pk,
        number,
        opened_on,
        closed_on,
        num,
        den,
        consumer,
        premise,
        kind,
        area,
        rooms,
        building,
    ) in rows:
        premise_meters, premise_readings = _meters(
            meters.get(premise, ()) if premise is not None else (), readings
        )
        account = core.Account(
            number,
            opened_on,
            area if area is not None else Decimal(0),
            services=tuple(
                core.ConnectedService(
                    catalogue.service_codes[service], str(provider), start, stop, group
                )
                for service, provider, start, stop, group in connected.get(pk, ())
                if service in catalogue.service_codes
            ),
            closed_on=closed_on,
            share=Fraction(num, den),
            premise_kind=PREMISE_KINDS.get(kind, PremiseKind.RESIDENTIAL),
            consumer_kind=CONSUMER_KINDS[consumer],
            rooms=rooms or 1,
            registrations=tuple(
                core.Registration(str(person), start, stop, REGISTRATION_KINDS[reg_kind])
                for person, start, stop, reg_kind in registrations.get(pk, ())
            ),
            owners=len(owners.get(premise, ())) if premise is not None else 0,
            benefits=_grants(catalogue, benefits.get(pk, ())),
            absences=absences.get(pk, ()),
            meter_impossible=frozenset(
                RESOURCES[resource] for (resource,) in impossible.get(premise, ())
            ),
            building=buildings.get(building) if building is not None else None,
        )
        inputs.append(
            core.PeriodInputs(
                period,
                account,
                catalogue.services,
                catalogue.config,
                premise_meters,
                premise_readings,
            )
        )
    return Chunk(
        tuple(inputs),
        {row[1]: row[0] for row in rows},
        catalogue.tenant_id,
        tuple(row[11] for row in rows),
        _houses(catalogue, buildings),
    )


def accounts_of(catalogue: Catalogue, account_ids: Sequence[int]) -> Chunk:
    """A chunk of `account_ids` (one tenant) without engine inputs: their numbers and
    buildings, in one query — what the penalties need (`kvit.billing.penalties.accrue`)."""
    rows = (
        AccountRow.objects.filter(pk__any_of=account_ids, tenant_id=catalogue.tenant_id)
        .order_by("pk")
        .values_list("pk", "number", "premise__building_id")
    )
    found = list(rows)
    numbers = {number: pk for pk, number, _ in found}
    return Chunk((), numbers, catalogue.tenant_id, tuple(building for *_, building in found))


Billed = list[tuple[PremiseKind, dict[Resource, Decimal]]]


def neighbours(catalogue: Catalogue, chunk: Chunk) -> dict[int, Billed]:
    """For each building of the chunk with a common-house meter, the volumes its other
    accounts were billed this period, as posted (summed per premise kind): what the house
    balance reads of the premises the chunk does not hold (real time rates the accounts
    that changed, not their whole building). Two queries (`posted_house_volumes`), summed
    by the database; none without such a building.

    [ASSUMPTION] The posted lines are what the neighbours' ratings give now: every change
    of their inputs is billed at once. A neighbour not billed for the period yet counts 0
    until the period's bill run, which rates whole buildings."""
    if not chunk.houses:
        return {}
    resources = {
        pk: catalogue.services[code].resource for pk, code in catalogue.service_codes.items()
    }
    found: dict[int, dict[PremiseKind, dict[Resource, Decimal]]] = defaultdict(dict)
    for building, premise_kind, service, volume in posted_house_volumes(
        catalogue.period, chunk.houses, chunk.account_ids.values(), NOT_INDIVIDUAL
    ):
        resource = resources.get(service)
        if resource is None:
            continue
        kind = PREMISE_KINDS.get(premise_kind, PremiseKind.RESIDENTIAL)
        totals = found[building].setdefault(kind, {})
        totals[resource] = totals.get(resource, Decimal(0)) + volume
    return {building: list(kinds.items()) for building, kinds in found.items()}


def _houses(catalogue: Catalogue, buildings: dict[int, core.Building]) -> dict[int, House]:
    """The common-house meters of the buildings that have one present, with their readings
    (two queries)."""
    metered = [
        pk
        for pk, building in buildings.items()
        if CommonMeter.PRESENT in building.common_meters.values()
    ]
    if not metered:
        return {}
    meters = _group(_house_meter_rows(metered, catalogue.period.first_day))
    readings = _readings(catalogue, meters, set(meters))  # the whole look-back: rarely many
    houses = {}
    for building, rows in meters.items():
        found, found_readings = _meters(rows, readings)
        houses[building] = House(found, found_readings)
    return houses


@prepared
def _house_meter_rows(buildings: list[int], first: date) -> QuerySet[Any, Any]:
    return (
        MeterRow.objects.filter(building_id__any_of=buildings, kind=MeterRow.Kind.COMMON_HOUSE)
        .filter(Q(removed_on__isnull=True) | Q(removed_on__gt=first))
        .order_by("building_id", "installed_on", "pk")
        .values_list("building_id", *METER_COLUMNS)
    )


Row = tuple[Any, ...]
# Text → enum by dictionary: `Enum(value)` costs microseconds, and a chunk has ~100,000 rows.
ZONES = {zone.value: zone for zone in Zone}
READING_KINDS = {kind.value: kind for kind in ReadingKind}
RESOURCES = {resource.value: resource for resource in Resource}
METER_KINDS = {kind.value: kind for kind in MeterKind}
METER_STATUSES = {status.value: status for status in MeterStatus}
REGISTRATION_KINDS = {kind.value: kind for kind in RegistrationKind}
PREMISE_KINDS = {kind.value: kind for kind in PremiseKind}
CONSUMER_KINDS = {kind.value: kind for kind in ConsumerKind}
METER_ZONES = {count: tuple(ZONES[z] for z in codes) for count, codes in ZONES_BY_COUNT.items()}
QUANTA = tuple(Decimal(1).scaleb(-places) for places in range(7))  # meters show 0 … 6
METER_COLUMNS = (
    "pk",
    "serial_number",
    "resource",
    "installed_on",
    "zones",
    "kind",
    "integer_digits",
    "fraction_digits",
    "transform_ratio",
    "removed_on",
    "verified_on",
    "verification_interval_years",
    "status",
    "failed_on",
)
RECENT_MONTHS = 2  # the months before the period whose readings every register loads


def _readings(
    catalogue: Catalogue, meters: dict[Any, list[Row]], moving: set[Any]
) -> dict[Any, list[Row]]:
    """Accepted readings by meter, in two queries whatever the chunk's size.

    Every register gets its readings from `RECENT_MONTHS` before the period on: enough for
    a reading in this period's window and one in the previous window, which is all a
    metered line needs. The registers that may need more — a window without a reading (an
    average, a true-up over estimated months), a failed or expiring meter, a meter
    installed or removed lately (a replacement gap), a premise whose account or service
    starts or ends lately (`moving`: its days end before the window does) — get the whole
    look-back of the averaging rules (`lookback_months`) in the second query.
    """
    period = catalogue.period
    end = period.end
    recent = _months_before(period.first_day, RECENT_MONTHS)
    ids = [row[0] for rows in meters.values() for row in rows]
    found = _accepted(ids, recent, end)
    day = catalogue.config.reading_cutoff_day
    cutoffs, before = Cutoffs.of(period, day), Cutoffs.of(period.previous(), day)
    history = [
        row[0]
        for premise, rows in meters.items()
        for row in rows
        if premise in moving
        or _needs_history(row, found.get(row[0], ()), cutoffs, before.previous, recent)
    ]
    if history:
        since = _months_before(period.first_day, lookback_months(catalogue.config))
        for meter, rows in _accepted(history, since, recent).items():
            found[meter] = rows + found.get(meter, [])
    return found


def _accepted(meter_ids: Sequence[int], since: date, until: date) -> dict[Any, list[Row]]:
    """The accepted readings of the meters taken in [since, until), by meter, in order."""
    return _group(_reading_rows(list(meter_ids), since, until)) if meter_ids else {}


@prepared
def _reading_rows(meter_ids: list[int], since: date, until: date) -> QuerySet[Any, Any]:
    return (
        ReadingRow.objects.filter(
            meter_id__any_of=meter_ids,
            status=ReadingRow.Status.ACCEPTED,
            taken_on__gte=since,
            taken_on__lt=until,
        )
        .order_by("meter_id", "zone", "taken_on", "pk")
        .values_list("meter_id", "zone", "taken_on", "value", "kind")
    )


def _needs_history(
    meter: Row, readings: Sequence[Row], cutoffs: Cutoffs, earlier: date, recent: date
) -> bool:
    """Whether a register of the meter may need readings older than `recent` (`earlier`:
    the cutoff that opens the previous window)."""
    _, _, _, installed_on, zones, _, _, _, _, removed_on, verified_on, interval, _, failed = meter
    due = verification_due(verified_on, interval)
    if failed is not None or (due is not None and due <= cutoffs.period_end):
        return True
    if installed_on >= recent or (removed_on is not None and removed_on >= recent):
        return True
    for zone in ZONES_BY_COUNT.get(zones, ()):
        days = [taken_on for z, taken_on, _, _ in readings if z == zone]
        if not any(cutoffs.previous < day <= cutoffs.current for day in days):
            return True  # this window is estimated or settled by a true-up
        if not any(earlier < day <= cutoffs.previous for day in days):
            return True  # the last window was: the start reading is older
    return False


def _group(rows: Iterable[Row]) -> dict[Any, list[Row]]:
    """Rows keyed by their first column, the rest kept in query order."""
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _meters(
    rows: Iterable[Row], readings: dict[Any, list[Row]]
) -> tuple[tuple[core.Meter, ...], tuple[core.Reading, ...]]:
    meters: list[core.Meter] = []
    found: list[core.Reading] = []
    serials: set[str] = set()
    for row in rows:
        (pk, serial, resource, installed_on, zones, kind, integer_digits, fraction_digits) = row[:8]
        ratio, removed_on, verified_on, interval, status, failed_on = row[8:]
        name = serial if serial not in serials else f"{serial} #{pk}"  # one serial twice
        serials.add(name)
        meters.append(
            core.Meter(
                name,
                RESOURCES[resource],
                installed_on,
                zones=METER_ZONES[zones],
                kind=METER_KINDS[kind],
                integer_digits=integer_digits,
                fraction_digits=fraction_digits,
                transform_ratio=ratio,
                removed_on=removed_on,
                verification_due=verification_due(verified_on, interval),
                status=METER_STATUSES[status],
                failed_on=failed_on,
            )
        )
        found.extend(
            core.Reading(
                name,
                ZONES[zone],
                taken_on,
                shortest(value, fraction_digits),
                READING_KINDS[kind],
            )
            for zone, taken_on, value, kind in readings.get(pk, ())
        )
    return tuple(meters), tuple(found)


def shortest(value: Decimal, places: int) -> Decimal:
    """`value` at `places` decimals when no digit is lost (a column's 100.250000 is the
    meter's 100.250), else as it is."""
    short = value.quantize(QUANTA[places] if places < len(QUANTA) else Decimal(1).scaleb(-places))
    return short if short == value else value


def _grants(catalogue: Catalogue, rows: Iterable[Row]) -> tuple[core.BenefitGrant, ...]:
    grants = []
    for person, category, start, stop in rows:
        code, rate, services = catalogue.categories[category]
        grants.append(core.BenefitGrant(str(person), code, rate, services, start, stop))
    return tuple(grants)


def _absences(account_ids: Sequence[int], period: Period) -> dict[int, tuple[core.Absence, ...]]:
    """The accounts' temporary absences that reach into the period, by account (one query).
    An absence without its arrival day is left out: it is recalculated once the person is
    back (spec 2.14)."""
    rows = _group(_absence_rows(list(account_ids), period.first_day, period.end))
    return {
        account: tuple(
            core.Absence(str(person), departure, arrival, filed_on)
            for person, departure, arrival, filed_on in items
        )
        for account, items in rows.items()
    }


@prepared
def _absence_rows(ids: list[int], first: date, end: date) -> QuerySet[Any, Any]:
    return (
        Absence.objects.filter(
            account_id__any_of=ids, effective_from__lt=end, effective_to__gte=first
        )
        .order_by("account_id", "effective_from", "person_id")
        .values_list("account_id", "person_id", "effective_from", "effective_to", "filed_on")
    )


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _services(tenant_id: int, period: Period) -> dict[int, core.Service]:
    """Every service of the tenant with the tariff and norm versions touching the period and
    the look-back before it (a true-up re-rates past periods, 2.7)."""
    tariffs: dict[int, list[core.TariffVersion]] = defaultdict(list)
    tiers = _group(
        TariffTier.objects.filter(tariff__tenant_id=tenant_id)
        .order_by("tariff_id", F("upper_bound").asc(nulls_last=True))
        .values_list("tariff_id", "upper_bound", "value")
    )
    zones = _group(
        TariffZone.objects.filter(tariff__tenant_id=tenant_id)
        .order_by("tariff_id", "zone")
        .values_list("tariff_id", "zone", "value")
    )
    for pk, service, start, stop, value, group, vat in (
        Tariff.objects.filter(tenant_id=tenant_id)
        .order_by("service_id", "group", "effective_from")
        .values_list(
            "pk", "service_id", "effective_from", "effective_to", "value", "group", "vat_included"
        )
    ):
        tariffs[service].append(
            core.TariffVersion(
                start,
                stop,
                value,
                tuple(core.Tier(bound, price) for bound, price in tiers.get(pk, ())),
                tuple(core.ZonePrice(Zone(zone), price) for zone, price in zones.get(pk, ())),
                group,
                vat,
            )
        )
    norms: dict[int, list[core.NormVersion]] = defaultdict(list)
    for service, kind, value, start, stop, rooms, persons in (
        Norm.objects.filter(tenant_id=tenant_id)
        .order_by("service_id", "kind", "rooms", "persons", "effective_from")
        .values_list(
            "service_id", "kind", "value", "effective_from", "effective_to", "rooms", "persons"
        )
    ):
        norms[service].append(core.NormVersion(NormKind(kind), value, start, stop, rooms, persons))
    services = {}
    for (
        pk,
        code,
        name,
        unit,
        method,
        resource,
        absence,
        coefficient,
        penalty,
        maintenance,
        order,
    ) in (
        Service.objects.filter(tenant_id=tenant_id)
        .order_by("sort_order", "code")
        .values_list(
            "pk",
            "code",
            "name",
            "unit",
            "method",
            "resource",
            "absence_recalc_allowed",
            "increase_coefficient_applies",
            "penalty_scheme",
            "part_of_maintenance",
            "sort_order",
        )
    ):
        services[pk] = core.Service(
            code,
            name,
            Unit(unit),
            Method(method),
            Resource(resource) if resource else None,
            absence_recalc_allowed=absence,
            increase_coefficient_applies=coefficient,
            penalty_scheme=PenaltyScheme(penalty),
            part_of_maintenance=maintenance,
            sort_order=order,
            tariffs=tuple(tariffs.get(pk, ())),
            norms=tuple(norms.get(pk, ())),
        )
    return services


def _categories(
    tenant_id: int, codes: dict[int, str]
) -> dict[int, tuple[str, Decimal, tuple[str, ...]]]:
    covered = _group(
        BenefitCategory.services.through.objects.filter(
            benefitcategory__tenant_id=tenant_id
        ).values_list("benefitcategory_id", "service_id")
    )
    return {
        pk: (code, rate, tuple(codes[s] for (s,) in covered.get(pk, ()) if s in codes))
        for pk, code, rate in BenefitCategory.objects.filter(tenant_id=tenant_id).values_list(
            "pk", "code", "rate"
        )
    }


def _buildings(ids: set[int]) -> dict[int, core.Building]:
    """The chunk's buildings with their common-house meters; house volumes are computed by
    the bill run (`kvit.core.house_balance`), heating seasons have no model yet."""
    if not ids:
        return {}
    meters = _group(_building_resource_rows(list(ids)))
    return {
        pk: core.Building(
            total,
            common,
            HeatingScheme(heating),
            {RESOURCES[r]: CommonMeter(m) for r, m in meters.get(pk, ())},
        )
        for pk, total, common, heating in _building_rows(list(ids))
    }


@prepared
def _building_resource_rows(ids: list[int]) -> QuerySet[Any, Any]:
    return BuildingResource.objects.filter(building_id__any_of=ids).values_list(
        "building_id", "resource", "common_meter"
    )


@prepared
def _building_rows(ids: list[int]) -> QuerySet[Any, Any]:
    return Building.objects.filter(pk__any_of=ids).values_list(
        "pk", "total_area", "common_area", "heating_scheme"
    )
