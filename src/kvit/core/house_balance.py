"""The house balance of a bill run (spec 2.8, 2.9): the common-house meter's volume, the
volumes billed to the building's premises, and the two steps that put them together.

With a common-house meter of a resource (`Building.common_meters[resource] = present`), the
common-house needs (2.8) and heating by the house heat meter (2.9) read the period's
`CommonHouseVolume` of the resource from `Building.volumes`:

* `house_meter` = `V_odpu`, the house meter's volume (`house_meter_volume`): the reading
  window, rollover and capacity rules of a premise meter (`consumption.measure`), times the
  transformer ratio, the zones added up; the meters of one resource (a replacement) add up
  (`measure_house_meters`);
* `individual_residential`, `nonresidential` = Σ the volumes billed this period to the
  building's residential and non-residential premises "as billed: metered, average or
  norm" (2.8), which every rating reports as `Rating.volumes`;
* `carried_negative` = last month's carry (`Rating.carried`, `negative_odn_mode =
  carry_forward`; `carries` picks it out of a building's ratings).

`rate_building` rates one building's accounts in two steps (`rating.Staged`): first every
service that does not read the house figures (what a premise is billed for its own
consumption never depends on the house volume), then, with `Building.volumes` filled in
(one new `Building` shared by the accounts), the services that read them — common-house
needs of a resource with a house meter, heating by area with a house heat meter — and the
adjustments. Each service is rated once, and the ratings equal rating each account with
the filled building (a test checks it against two whole passes). An account with a
temporary absence is rated for its volumes first, then again whole: its absence, an
adjustment, lowers the volume the balance reads (2.14). Without a service that reads the
figures in the building there is one pass.

[DECISION] What counts as billed (`Rating.volumes`): metered, average and norm volumes (the
×K surcharge repeats a volume and counts once), a true-up settled in this period
(`trueup_mode = current_period`: `V_true − V_est`, possibly negative), this period's share
under `rerate_past`, and less a temporary-absence recalculation. The recalculation lines of
earlier periods under `rerate_past` do not count: they belong to the periods they correct,
whose house balance is not reopened (the premise shares of 2.8 are never adjusted
afterwards). Under `current_period` the catch-up lands in this month, so the balance of the
months together stays `Σ V_odpu − Σ actual`.

[DECISION] A house meter that cannot be measured for the period (no usable reading in its
window, failed, verification expired) gives no volume and an error; the building's services
that need it then report `house_volume_missing` and are not charged. [UNCERTAIN] R354
p.59(1) allows the house meter's average for a few months; not implemented. A meter whose
window is empty (installed after this period's cutoff, removed before its start) measures
0 this period, like a premise meter (its days are billed from the next window).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from itertools import chain
from types import MappingProxyType

from kvit.core.codes import CommonMeter, Method, PremiseKind, Resource
from kvit.core.config import Config
from kvit.core.consumption import METER_FAILED, Cutoffs, measure, registers, stop_of, window
from kvit.core.house import has_house_meter
from kvit.core.inputs import (
    Building,
    CommonHouseVolume,
    Meter,
    PeriodInputs,
    Reading,
    Service,
)
from kvit.core.issues import Issue, Severity, Value, register_messages
from kvit.core.lines import Rating
from kvit.core.periods import Period
from kvit.core.rating import Staged, collector_paused, rate, rate_all
from kvit.core.tariffs import ZERO, TariffBook

HOUSE_METER_NO_READING = "house_meter_no_reading"
HOUSE_METER_FAILED = "house_meter_failed"
HOUSE_METER_VERIFICATION_EXPIRED = "house_meter_verification_expired"

_UNKNOWN = {
    "en": "the house volume for {period} is not known and the services that need it are "
    "not charged",
    "ru": "объём дома за {period} неизвестен, услуги, которым он нужен, не начислены",
}

register_messages(
    {
        HOUSE_METER_NO_READING: {
            "en": "zone {zone}: no usable reading of the common-house meter after {after} up "
            "to {end}; " + _UNKNOWN["en"],
            "ru": "зона {zone}: нет пригодного показания общедомового прибора учёта после "
            "{after} по {end}; " + _UNKNOWN["ru"],
        },
        HOUSE_METER_FAILED: {
            "en": "the common-house meter failed on {day}; its readings after that day are not "
            "used, so " + _UNKNOWN["en"],
            "ru": "общедомовой прибор учёта вышел из строя {day}; его показания после этого "
            "дня не используются, поэтому " + _UNKNOWN["ru"],
        },
        HOUSE_METER_VERIFICATION_EXPIRED: {
            "en": "the verification of the common-house meter was due on {due}; its readings "
            "after that day are not used, so " + _UNKNOWN["en"],
            "ru": "срок поверки общедомового прибора учёта истёк {due}; его показания после "
            "этого дня не используются, поэтому " + _UNKNOWN["ru"],
        },
    }
)

_NOTHING: Mapping[Resource, Decimal] = MappingProxyType({})


def house_meter_volume(
    meter: Meter,
    readings: Iterable[Reading],
    period: Period,
    config: Config,
    account_label: str,
) -> tuple[Decimal | None, tuple[Issue, ...]]:
    """`V_odpu` of one common-house meter for `period` and the issues found; the volume is
    `None` (with an error) when the meter cannot be measured.

    The window is a premise meter's (`consumption.window`, the meter's installation and
    removal days): `(previous cutoff, cutoff]`, or up to the removal day. Every zone is
    measured (`consumption.measure`: rejected readings, rollovers, the transformer ratio)
    and the zones are added up. A failure or an expired verification before the window's
    end makes the period unmeasurable (the end reading is not usable). `readings` may hold
    other meters' readings; only `meter`'s are used. `account_label` names the building in
    the issues (their account field).
    """
    span = window(
        Cutoffs.of(period, config.reading_cutoff_day), meter.installed_on, meter.removed_on
    )
    if span.empty:
        return ZERO, ()
    stop = stop_of(meter, config)
    if stop is not None and stop.last_usable < span.end_on:
        values: dict[str, Value] = {"period": str(period)}
        code = HOUSE_METER_FAILED
        if stop.reason == METER_FAILED:
            values["day"] = stop.from_day
        else:
            code = HOUSE_METER_VERIFICATION_EXPIRED
            values["due"] = stop.due
        return None, (Issue(code, Severity.ERROR, account_label, meter.serial, "", values),)
    chains = registers(reading for reading in readings if reading.meter == meter.serial)
    issues: list[Issue] = []
    total = ZERO
    complete = True
    for zone in meter.zones:
        found = measure(
            meter,
            zone,
            chains.get((meter.serial, zone), ()),
            span,
            period,
            config,
            account_label,
            "",
            stop,
        )
        issues.extend(found.issues)
        if found.volume is None:
            complete = False
            if found.start is not None:  # no_start_reading is reported by measure
                issues.append(
                    Issue(
                        HOUSE_METER_NO_READING,
                        Severity.ERROR,
                        account_label,
                        meter.serial,
                        "",
                        {
                            "zone": zone.value,
                            "after": span.anchor_on,
                            "end": span.end_on,
                            "period": str(period),
                        },
                    )
                )
        else:
            total += found.volume.volume
    return (total if complete else None), tuple(issues)


def measure_house_meters(
    meters: Iterable[Meter],
    readings: Iterable[Reading],
    period: Period,
    config: Config,
    account_label: str,
) -> tuple[dict[Resource, Decimal], tuple[Issue, ...]]:
    """`V_odpu` per resource over the building's common-house meters (`house_meter_volume`
    each; the meters of one resource add up, so a replacement in the period counts both
    pieces) and the issues. A resource with a meter that cannot be measured has no volume."""
    kept = tuple(readings)
    volumes: dict[Resource, Decimal] = {}
    failed: set[Resource] = set()
    issues: list[Issue] = []
    for meter in meters:
        volume, found = house_meter_volume(meter, kept, period, config, account_label)
        issues.extend(found)
        if volume is None:
            failed.add(meter.resource)
        else:
            volumes[meter.resource] = volumes.get(meter.resource, ZERO) + volume
    return {r: v for r, v in volumes.items() if r not in failed}, tuple(issues)


def house_volumes(
    building: Building,
    period: Period,
    meter_volumes: Mapping[Resource, Decimal],
    billed: Iterable[tuple[PremiseKind, Mapping[Resource, Decimal]]],
    carried: Mapping[Resource, Decimal] = _NOTHING,
) -> tuple[CommonHouseVolume, ...]:
    """The period's `CommonHouseVolume`s of `building`: one per resource with a present
    house meter and a measured `V_odpu` in `meter_volumes` (none for the others: their
    services report `house_volume_missing`), in `Resource` order.

    `billed` is every premise's (account's) kind and `Rating.volumes`; each resource's
    volumes add up exactly into `individual_residential` or `nonresidential`.
    `carried_negative` is `carried[resource]` (last month's carry, ≤ 0; a positive value is
    no carry), 0 in January: the carry is reset at the end of the calendar year (2.8).
    """
    resources = [
        resource
        for resource in Resource
        if resource in meter_volumes and has_house_meter(building, resource)
    ]
    if not resources:
        return ()
    residential = dict.fromkeys(resources, ZERO)
    nonresidential = dict.fromkeys(resources, ZERO)
    for kind, volumes in billed:
        totals = nonresidential if kind is PremiseKind.NON_RESIDENTIAL else residential
        for resource in resources:
            volume = volumes.get(resource)
            if volume is not None:
                totals[resource] += volume
    january = period.month == 1
    return tuple(
        CommonHouseVolume(
            resource,
            meter_volumes[resource],
            residential[resource],
            nonresidential[resource],
            ZERO if january else min(carried.get(resource, ZERO), ZERO),
        )
        for resource in resources
    )


def carries(ratings: Iterable[Rating]) -> dict[Resource, Decimal]:
    """The building's carries into the next month (`Rating.carried`; every account with the
    service reports the same one): next month's `carried` for `rate_building`."""
    found: dict[Resource, Decimal] = {}
    for rating in ratings:
        for carry in rating.carried:
            found.setdefault(carry.resource, carry.volume)
    return found


def rate_building(
    inputs: Sequence[PeriodInputs],
    house_meters: Mapping[Resource, Decimal],
    carried: Mapping[Resource, Decimal] = _NOTHING,
    book: TariffBook | None = None,
    others: Iterable[tuple[PremiseKind, Mapping[Resource, Decimal]]] = (),
) -> list[Rating]:
    """The ratings of one building's accounts for one period, in order, with the house
    balance of 2.8/2.9 computed from the first step (see the module text).

    `inputs`: accounts of the building, one period, one `Building` (the same object, or
    equal); every premise's accounts count in the balance, so those not rated here come as
    `others`: each one's premise kind and volumes as billed (what its `Rating.volumes` was).
    The building's own `volumes` are replaced. `house_meters`: `V_odpu` per resource
    (`measure_house_meters`); `carried`: last month's `carries`. Raises `ValueError` when the
    accounts are not of one building and period (a caller's mistake, not a data problem).
    """
    if not inputs:
        return []
    building, period = _building_of(inputs)
    shared = book or TariffBook()
    if building is None or not any(
        meter is CommonMeter.PRESENT for meter in building.common_meters.values()
    ):
        return rate_all(inputs, shared)
    reads = [_reads(item, building) for item in inputs]
    if not any(reads):
        return rate_all(inputs, shared)
    bare = replace(building, volumes=()) if building.volumes else building
    with collector_paused():
        # Step 1: what does not read the house figures, which makes every premise's own
        # volume. An account with a temporary absence is rated by itself first instead:
        # its absence, an adjustment made after every service, lowers that volume (2.14).
        staged: list[Staged | None] = []
        volumes: list[Mapping[Resource, Decimal]] = []
        for item in inputs:
            if item.account.absences:
                metered = {
                    r for r, meter in building.common_meters.items() if meter is CommonMeter.PRESENT
                }
                staged.append(None)
                volumes.append(rate(_volumes_only(item, bare, metered), shared).volumes)
                continue
            first = Staged(_in(item, bare), shared)
            first.bill(lambda service: not reads_house(service, building))
            staged.append(first)
            volumes.append(first.volumes)
        figures = house_volumes(
            building,
            period,
            house_meters,
            chain(
                zip((item.account.premise_kind for item in inputs), volumes, strict=True), others
            ),
            carried,
        )
        # Step 2: the rest, with the figures (one new building shared by the accounts).
        filled = replace(building, volumes=figures)
        ratings = []
        for item, step in zip(inputs, staged, strict=True):
            if step is None:
                ratings.append(rate(_in(item, filled), shared))
            else:
                step.bill_rest(_in(item, filled))
                ratings.append(step.finish())
    return ratings


def reads_house(service: Service, building: Building) -> bool:
    """Whether the service reads the building's house figures: common-house needs of a
    resource with a house meter, heating by area with a house heat meter."""
    if service.method is Method.COMMON_HOUSE_BY_AREA:
        return service.resource is not None and has_house_meter(building, service.resource)
    if service.method is Method.HEATING_BY_AREA:
        return has_house_meter(building, Resource.HEAT)
    return False


def _volumes_only(item: PeriodInputs, building: Building, metered: set[Resource]) -> PeriodInputs:
    """The account with only the services that bill a house-metered resource's own volume
    (common-house needs and heating by area read the house figures, they make none)."""
    services = item.services
    kept = tuple(
        connected
        for connected in item.account.services
        if (service := services.get(connected.service)) is not None
        and service.resource in metered
        and service.method not in (Method.COMMON_HOUSE_BY_AREA, Method.HEATING_BY_AREA)
    )
    return replace(item, account=replace(item.account, building=building, services=kept))


def _building_of(inputs: Sequence[PeriodInputs]) -> tuple[Building | None, Period]:
    first = inputs[0]
    building, period = first.account.building, first.period
    for item in inputs:
        other = item.account.building
        if (other is not building and other != building) or item.period != period:
            raise ValueError(
                f"rate_building: account {item.account.number} is not of the same building "
                f"and period as account {first.account.number}"
            )
    return building, period


def _reads(item: PeriodInputs, building: Building) -> bool:
    """Whether some service of the account reads the house figures."""
    services = item.services
    return any(
        (service := services.get(connected.service)) is not None and reads_house(service, building)
        for connected in item.account.services
    )


def _in(item: PeriodInputs, building: Building) -> PeriodInputs:
    if item.account.building is building:
        return item  # nothing to move: `replace` would build the account anew
    return replace(item, account=replace(item.account, building=building))
