"""ORM rows → engine inputs, one way only (architecture §1: fetch).

`Catalogue.load(tenant, period)` reads what every account of a run shares — the services
with their tariff and norm versions, benefit categories, the tenant's configuration — once
per run. `fetch(catalogue, account_ids)` then turns a chunk of accounts into `PeriodInputs`
in a fixed number of queries (`QUERIES_PER_CHUNK`), whatever the chunk's size: rows are read
with `values_list` and grouped in memory, never one query per account.

Identifiers cross the boundary as text: the engine's account is the account number, its
provider the provider's primary key, its service the service code and its meter the serial
number. `Chunk` keeps the maps back to primary keys for the persist step.

What the models do not hold yet reaches the engine empty: absences, interruptions, access
refusals, common-house volumes and heating seasons (the engine reports what it then cannot
compute as issues, e.g. a house meter without its volume).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import F, Q

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
from kvit.core.config import Config, config_on
from kvit.core.periods import Period
from kvit.metering.models import Meter as MeterRow
from kvit.metering.models import Reading as ReadingRow
from kvit.metering.models import verification_due
from kvit.metering.resources import ZONES_BY_COUNT
from kvit.parameters.models import Parameter
from kvit.people.models import Benefit, BenefitCategory, Ownership, Registration
from kvit.premises.models import Building, BuildingResource, MeterImpossibility
from kvit.tariffs.models import Norm, Service, Tariff, TariffTier, TariffZone

QUERIES_PER_CHUNK = 8
"""Accounts, connected services, registrations, owners, benefits, meters, readings and
meter impossibilities: the fetch's whole cost per chunk (a test counts them)."""


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
    buildings: dict[int, core.Building]

    @classmethod
    def load(cls, tenant_id: int, period: Period) -> Catalogue:
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
            _buildings(tenant_id),
        )


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


def fetch(catalogue: Catalogue, account_ids: Sequence[int]) -> Chunk:
    """`PeriodInputs` for `account_ids` (one tenant), in `QUERIES_PER_CHUNK` queries."""
    period = catalogue.period
    first, end = period.first_day, period.end
    in_period = Q(effective_from__lt=end) & (
        Q(effective_to__isnull=True) | Q(effective_to__gt=first)
    )
    rows = list(
        AccountRow.objects.filter(pk__in=account_ids, tenant_id=catalogue.tenant_id)
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
    ids = [row[0] for row in rows]
    premises = {row[7] for row in rows if row[7] is not None}
    connected = _group(
        AccountService.objects.filter(in_period, account_id__in=ids)
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
    registrations = _group(
        Registration.objects.filter(in_period, account_id__in=ids)
        .order_by("account_id", "effective_from", "person_id")
        .values_list("account_id", "person_id", "effective_from", "effective_to", "kind")
    )
    owners: dict[int, set[int]] = defaultdict(set)
    for premise, owner in Ownership.objects.filter(in_period, premise_id__in=premises).values_list(
        "premise_id", "owner_id"
    ):
        owners[premise].add(owner)
    benefits = _group(
        Benefit.objects.filter(in_period, account_id__in=ids)
        .order_by("account_id", "effective_from", "person_id")
        .values_list("account_id", "person_id", "category_id", "effective_from", "effective_to")
    )
    meters = _group(
        MeterRow.objects.filter(premise_id__in=premises, kind__in=MeterRow.PREMISE_KINDS)
        .filter(Q(removed_on__isnull=True) | Q(removed_on__gt=first))
        .order_by("premise_id", "installed_on", "pk")
        .values_list(
            "premise_id",
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
    )
    since = _months_before(first, lookback_months(catalogue.config))
    readings = _group(
        ReadingRow.objects.filter(
            meter__premise_id__in=premises,
            meter__kind__in=MeterRow.PREMISE_KINDS,
            status=ReadingRow.Status.ACCEPTED,
            taken_on__gte=since,
            taken_on__lt=end,
        )
        .order_by("meter_id", "zone", "taken_on", "pk")
        .values_list("meter_id", "zone", "taken_on", "value", "kind")
    )
    impossible = _group(
        MeterImpossibility.objects.filter(premise_id__in=premises).values_list(
            "premise_id", "resource"
        )
    )
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
            premise_kind=PremiseKind(kind) if kind else PremiseKind.RESIDENTIAL,
            consumer_kind=ConsumerKind(consumer),
            rooms=rooms or 1,
            registrations=tuple(
                core.Registration(str(person), start, stop, RegistrationKind(reg_kind))
                for person, start, stop, reg_kind in registrations.get(pk, ())
            ),
            owners=len(owners.get(premise, ())) if premise is not None else 0,
            benefits=_grants(catalogue, benefits.get(pk, ())),
            meter_impossible=frozenset(
                Resource(resource) for (resource,) in impossible.get(premise, ())
            ),
            building=catalogue.buildings.get(building) if building is not None else None,
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
    return Chunk(tuple(inputs), {row[1]: row[0] for row in rows}, catalogue.tenant_id)


Row = tuple[Any, ...]


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
                Resource(resource),
                installed_on,
                zones=tuple(Zone(zone) for zone in ZONES_BY_COUNT.get(zones, ())),
                kind=MeterKind(kind),
                integer_digits=integer_digits,
                fraction_digits=fraction_digits,
                transform_ratio=ratio,
                removed_on=removed_on,
                verification_due=verification_due(verified_on, interval),
                status=MeterStatus(status),
                failed_on=failed_on,
            )
        )
        found.extend(
            core.Reading(name, Zone(zone), taken_on, value, ReadingKind(reading_kind))
            for zone, taken_on, value, reading_kind in readings.get(pk, ())
        )
    return tuple(meters), tuple(found)


def _grants(catalogue: Catalogue, rows: Iterable[Row]) -> tuple[core.BenefitGrant, ...]:
    grants = []
    for person, category, start, stop in rows:
        code, rate, services = catalogue.categories[category]
        grants.append(core.BenefitGrant(str(person), code, rate, services, start, stop))
    return tuple(grants)


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


def _buildings(tenant_id: int) -> dict[int, core.Building]:
    """Buildings with their common-house meters; house volumes and heating seasons have no
    models yet (the engine reports what it then cannot compute)."""
    meters = _group(
        BuildingResource.objects.filter(building__tenant_id=tenant_id).values_list(
            "building_id", "resource", "common_meter"
        )
    )
    return {
        pk: core.Building(
            total,
            common,
            HeatingScheme(heating),
            {Resource(r): CommonMeter(m) for r, m in meters.get(pk, ())},
        )
        for pk, total, common, heating in Building.objects.filter(tenant_id=tenant_id).values_list(
            "pk", "total_area", "common_area", "heating_scheme"
        )
    }
