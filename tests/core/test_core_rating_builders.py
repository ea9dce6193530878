"""Builders shared by the rating tests: short ways to write the spec's worked examples as
engine inputs. Holds no tests; the rating, explain and inputs test modules import it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from kvit.core.codes import Method, NormKind, ReadingKind, Resource, Unit, Zone
from kvit.core.config import Config, config_on
from kvit.core.inputs import (
    Account,
    ConnectedService,
    Meter,
    NormVersion,
    PeriodInputs,
    Reading,
    Registration,
    Service,
    TariffVersion,
    Tier,
    ZonePrice,
)
from kvit.core.lines import Rating
from kvit.core.periods import Period
from kvit.core.rating import rate

JULY = Period(2025, 7)
LONG_AGO = date(2020, 1, 1)
CONFIG: Config = config_on(date(2025, 7, 1))
PROVIDER = "provider-1"
ACCOUNT = "1002003"


def d(text: str) -> Decimal:
    return Decimal(text)


def flat(
    value: str, start: date = LONG_AGO, end: date | None = None, group: str = ""
) -> TariffVersion:
    return TariffVersion(start, end, value=d(value), group=group)


def zoned(start: date = LONG_AGO, end: date | None = None, **prices: str) -> TariffVersion:
    return TariffVersion(
        start, end, zones=tuple(ZonePrice(Zone(zone), d(value)) for zone, value in prices.items())
    )


def tier(bound: str | None, value: str, **zones: str) -> Tier:
    """A tier up to `bound` (`None` = open) at `value`, with its zone prices as keywords."""
    prices = tuple(ZonePrice(Zone(zone), d(price)) for zone, price in zones.items())
    return Tier(None if bound is None else d(bound), d(value), prices)


def tiered(
    *tiers: tuple[str | None, str] | Tier, start: date = LONG_AGO, end: date | None = None
) -> TariffVersion:
    return TariffVersion(
        start,
        end,
        tiers=tuple(item if isinstance(item, Tier) else tier(*item) for item in tiers),
    )


def norm(
    value: str,
    kind: NormKind = NormKind.PER_PERSON,
    start: date = LONG_AGO,
    end: date | None = None,
    **extra: Any,
) -> NormVersion:
    return NormVersion(kind, d(value), start, end, **extra)


UNITS = {
    Resource.COLD_WATER: Unit.M3,
    Resource.HOT_WATER: Unit.M3,
    Resource.ELECTRICITY: Unit.KWH,
    Resource.HEAT: Unit.GCAL,
    Resource.GAS: Unit.M3,
}


def metered_service(
    resource: Resource,
    *tariffs: TariffVersion,
    code: str | None = None,
    method: Method = Method.METERED,
    **extra: Any,
) -> Service:
    return Service(
        code or resource.value,
        extra.pop("name", ""),
        UNITS[resource],
        method,
        resource=resource,
        tariffs=tariffs,
        **extra,
    )


def area_service(code: str, *tariffs: TariffVersion, name: str = "") -> Service:
    return Service(code, name, Unit.M2, Method.PER_AREA, tariffs=tariffs)


def connect(
    *codes: str, start: date = LONG_AGO, provider: str = PROVIDER
) -> tuple[ConnectedService, ...]:
    return tuple(ConnectedService(code, provider, start) for code in codes)


def persons(
    count: int, start: date = LONG_AGO, end: date | None = None
) -> tuple[Registration, ...]:
    return tuple(Registration(f"p{i}", start, end) for i in range(count))


def account(*codes: str, area: str = "54.30", **extra: Any) -> Account:
    services = extra.pop("services", None) or connect(*codes)
    return Account(ACCOUNT, extra.pop("opened_on", LONG_AGO), d(area), services=services, **extra)


def meter(serial: str, resource: Resource, installed_on: date = LONG_AGO, **extra: Any) -> Meter:
    return Meter(serial, resource, installed_on, **extra)


def reading(
    serial: str,
    day: date,
    value: str,
    zone: Zone = Zone.TOTAL,
    kind: ReadingKind = ReadingKind.ACTUAL,
) -> Reading:
    return Reading(serial, zone, day, d(value), kind)


def inputs(
    acc: Account,
    services: Iterable[Service],
    meters: Iterable[Meter] = (),
    readings: Iterable[Reading] = (),
    period: Period = JULY,
    config: Config = CONFIG,
) -> PeriodInputs:
    catalogue: Mapping[str, Service] = {service.code: service for service in services}
    return PeriodInputs(period, acc, catalogue, config, tuple(meters), tuple(readings))


def rated(*args: Any, **kwargs: Any) -> Rating:
    return rate(inputs(*args, **kwargs))


def amounts(rating: Rating, service: str | None = None) -> list[Decimal]:
    return [line.amount for line in rating.lines if service is None or line.service == service]


def quantities(rating: Rating, service: str | None = None) -> list[Decimal]:
    return [line.quantity for line in rating.lines if service is None or line.service == service]


def codes(rating: Rating) -> list[str]:
    return [issue.code for issue in rating.issues]
