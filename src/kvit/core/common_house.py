"""Common-house needs (СОИ / ОДН) distributed by area (spec 2.8).

* With a common-house meter: `V_house = V_odpu − Σ V_individual_residential −
  Σ V_nonresidential` (the individual volumes as billed, from `Building.volumes`, which the
  bill run sums in a first pass, see `individual_volume`), plus the negative volume carried
  from the previous month when `negative_odn_mode = carry_forward`.
* Without one (absent or impossible): `V_house = N_soi × S_common`.
* `V_i = round3(V_house × S_i / S_total)`, `S_i = area × share` exact; with
  `odn_cap_by_norm` and a house meter, `V_i ≤ round3(N_soi × S_common × S_i / S_total)`.
* A negative `V_house` bills 0 (a zero line explains why); with `carry_forward` it comes out
  as `Rating.carried` for the next month, reset at the end of the calendar year.
* `P_i = round2(V_i × T)`; shares are not adjusted to add up to `V_house`.

[DECISION] An account open (or connected) `d` of `D` days gets `round3(V_i × d / D)`, and a
tariff change splits the volume by days like a metered volume (2.13, remainder last).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kvit.core.codes import LineKind, NormKind, Resource, Rule
from kvit.core.context import NO_NORM, Job, Run, days, last_day, share_text
from kvit.core.dating import DateRange
from kvit.core.house import (
    Piece,
    building_of,
    figures_of,
    fround,
    has_house_meter,
    premise_area,
    priced_lines,
    spread,
)
from kvit.core.inputs import Building, CommonHouseVolume, Service
from kvit.core.issues import Value
from kvit.core.lines import ChargeLine, HouseCarry
from kvit.core.money import prorate
from kvit.core.periods import Period
from kvit.core.tariffs import ZERO, norm_for

CARRY_FORWARD = "carry_forward"


def balance(figures: CommonHouseVolume, period: Period, mode: str) -> tuple[Decimal, Decimal]:
    """`V_house` and the negative volume to carry into the next month (0 when none).

    With `carry_forward` the carried volume (≤ 0) is added, except in January: the carry is
    reset at the end of the calendar year, so December carries nothing out either. With
    `zero` a negative volume is discarded.
    """
    carry_on = mode == CARRY_FORWARD
    volume = figures.house_meter - figures.individual_residential - figures.nonresidential
    if carry_on and period.month != 1:
        volume += figures.carried_negative
    carry = volume if carry_on and volume < 0 and period.month != 12 else ZERO
    return volume, carry


@dataclass(frozen=True, slots=True)
class House:
    """The house side of 2.8 for one service and period: `V_house` (may be negative), the
    norm volume `N_soi × S_common` when it is needed, and the values that explain them."""

    building: Building
    volume: Fraction
    norm_volume: Fraction | None
    metered: bool
    values: Mapping[str, Value]


def house_of(run: Run, job: Job) -> House | None:
    """The house volume for the job's service, or `None` after reporting what is missing.

    With a house meter it also records the carry for `Rating.carried` (once per resource).
    """
    building = building_of(run, job, Rule.COMMON_HOUSE.value)
    if building is None:
        return None
    resource = job.service.resource
    metered = has_house_meter(building, resource)
    values: dict[str, Value] = {}
    norm_volume: Fraction | None = None
    if not metered or run.config.odn_cap_by_norm:
        norm = _norm(run, job)
        if norm is None:
            return None
        exact, single = norm
        norm_volume = exact * Fraction(building.common_area)
        if single is not None:
            values["norm"] = single
        values["common_area"] = building.common_area
        values["norm_volume"] = fround(norm_volume, 6)
    if not metered:
        assert norm_volume is not None  # a house without a meter always needs the norm
        values["house_volume"] = fround(norm_volume, 6)
        return House(building, norm_volume, norm_volume, False, values)
    assert resource is not None  # has_house_meter needs a resource
    figures = figures_of(run, job, building, resource)
    if figures is None:
        return None
    volume, carry = balance(figures, run.period, run.config.negative_odn_mode)
    if all(found.resource is not resource for found in run.carried):
        run.carried.append(HouseCarry(resource, carry))
    values["house_meter"] = figures.house_meter
    values["individual"] = figures.individual_residential
    values["nonresidential"] = figures.nonresidential
    carried = volume - (
        figures.house_meter - figures.individual_residential - figures.nonresidential
    )
    if carried:
        values["carried"] = carried
    values["house_volume"] = volume
    return House(building, Fraction(volume), norm_volume, True, values)


def _norm(run: Run, job: Job) -> tuple[Fraction, Decimal | None] | None:
    """`N_soi` for the month: the norm, or its day-weighted mean when it changes."""
    pieces = run.book.norms(job.service, NormKind.PER_COMMON_AREA, run.period)
    total = Fraction(0)
    found: set[Decimal] = set()
    for piece in pieces:
        row = norm_for(piece.rows, 0, 0)
        if row is None:
            run.issue(
                NO_NORM,
                job,
                kind=NormKind.PER_COMMON_AREA.value,
                day=piece.span.start,
                last=last_day(piece.span),
                rooms=0,
                persons=0,
            )
            return None
        found.add(row.value)
        total += Fraction(row.value) * days(piece.span)
    single = found.pop() if len(found) == 1 else None
    return total / run.period_days, single


@dataclass(frozen=True, slots=True)
class Share:
    """An area's part of the house volume: `share` = `round3(V_house × S / S_total)`
    (0 when `V_house < 0`), `cap` the norm cap when it applies, `billed` the smaller."""

    share: Decimal
    cap: Decimal | None
    billed: Decimal


def share_of(house: House, area: Fraction, places: int, cap_on: bool) -> Share:
    total = Fraction(house.building.total_area)
    share = fround(max(house.volume, Fraction(0)) * area / total, places)
    if not (house.metered and cap_on):
        return Share(share, None, share)
    assert house.norm_volume is not None  # the cap is on, so the norm was looked up
    cap = fround(house.norm_volume * area / total, places)
    return Share(share, cap, min(share, cap))


def pieces_of(
    run: Run, job: Job, house: House, area: Fraction, span: DateRange
) -> tuple[Share, Decimal, list[Piece]]:
    """The share of `area` over the days of `span` (inside the job), spread over tariffs."""
    places = run.places(job.service.unit)
    found = share_of(house, area, places, run.config.odn_cap_by_norm)
    span_days, period_days = days(span), run.period_days
    volume = found.billed
    if span_days != period_days:
        volume = prorate(volume, span_days, period_days, places)
    return found, volume, spread(run, job, [span], volume, places)


def common_house(run: Run, job: Job) -> None:
    """The 2.8 rule: one line per tariff segment, also when the volume is 0."""
    house = house_of(run, job)
    if house is None:
        return
    account = run.account
    found, volume, pieces = pieces_of(run, job, house, premise_area(account), job.span)
    values: dict[str, Value] = {**house.values, "area": account.area}
    if account.share != 1:
        values["share"] = share_text(account.share)
    values["total_area"] = house.building.total_area
    values["share_volume"] = found.share
    if found.cap is not None and found.cap < found.share:
        values["cap"] = found.cap
    if days(job.span) != run.period_days:
        values["days"] = days(job.span)
        values["period_days"] = run.period_days
    priced_lines(run, job, pieces, volume, values, Rule.COMMON_HOUSE)


NOT_INDIVIDUAL = frozenset({Rule.NORM_COEFFICIENT, Rule.COMMON_HOUSE, Rule.HEATING_BY_HOUSE_METER})
"""The rules whose lines are no premise's own volume: the ×K surcharge repeats one, the
common-house and house-meter heating shares are the house's."""


def individual_volume(
    lines: tuple[ChargeLine, ...] | list[ChargeLine],
    services: Mapping[str, Service],
    resource: Resource,
) -> Decimal:
    """A premise's billed volume of `resource` for the first pass of a bill run (2.8).

    The bill run rates every premise of the building without its common-house services,
    adds this up for residential and non-residential premises, and passes the totals as
    `CommonHouseVolume`. Counted: charge and recalculation lines of services of the
    resource (metered, average, norm, tiers, absence, a true-up in this period); not the ×K
    surcharge line (it repeats the volume), not recalculations of earlier periods
    (`corrects`), not common-house or house-meter heating shares, not sewerage.
    """
    total = ZERO
    for line in lines:
        service = services.get(line.service)
        if (
            service is not None
            and service.resource is resource
            and line.kind in (LineKind.CHARGE, LineKind.RECALCULATION)
            and line.explanation.corrects is None
            and line.explanation.rule not in NOT_INDIVIDUAL
        ):
            total += line.quantity
    return total
