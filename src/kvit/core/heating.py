"""Heating by area (spec 2.9), billed on the days of the heating season.

* No common-house heat meter (absent or impossible): the norm per m², `V_i = round6(S_i ×
  N_heat × d / D)` (`norms.norm_per_area`), on each stretch of the season.
* A common-house heat meter (no individual heat meters): `V_i = round6(V_odpu_heat × S_i /
  S_total)` Gcal, `P_i = round2(V_i × T)`; `V_odpu_heat` is `CommonHouseVolume.house_meter`
  for `heat`.

The season is `Building.heating_season` (`None`: every day, the 12-month model). An
account that is open (or connected) only `d` of the `H` heated days of the period gets
`round6(V_i × d / H)` [DECISION: the house meter measured the heated days only], split over
tariff segments by days (2.13). The share is the house meter's volume split by area, not
the premise's own: it is not added to the volumes the account was billed (`Rating.volumes`,
the house balance). The yearly correction of the 12-month model is not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kvit.core.codes import Resource, Rule
from kvit.core.context import Job, Run, days, overlap, period_span, share_text
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
from kvit.core.inputs import Building
from kvit.core.issues import Value
from kvit.core.money import prorate
from kvit.core.norms import norm_per_area


def heated(span: DateRange, building: Building | None) -> list[DateRange]:
    """The days of `span` in the heating season, in date order."""
    season = None if building is None else building.heating_season
    if season is None:
        return [span]
    found = [common for part in season if (common := overlap(span, part)) is not None]
    return sorted(found, key=lambda part: part.start)


def by_house_meter(run: Run) -> bool:
    return has_house_meter(run.account.building, Resource.HEAT)


def heating(run: Run, job: Job) -> None:
    """The 2.9 rule: by the house heat meter when there is one, else by the norm."""
    building = run.account.building
    spans = heated(job.span, building)
    if by_house_meter(run):
        if spans:
            _house_meter(run, job, spans)
        return
    for span in spans:
        norm_per_area(run, Job(job.service, job.connected, span))


@dataclass(frozen=True, slots=True)
class HouseHeat:
    """The house side of 2.9 with a heat meter: the meter's volume and the heated days."""

    building: Building
    volume: Decimal
    heated_days: int


def house_heat(run: Run, job: Job) -> HouseHeat | None:
    building = building_of(run, job, Rule.HEATING_BY_HOUSE_METER.value)
    if building is None:
        return None
    figures = figures_of(run, job, building, Resource.HEAT)
    if figures is None:
        return None
    heated_days = sum(days(span) for span in heated(period_span(run.period), building))
    return HouseHeat(building, figures.house_meter, heated_days)


def heat_pieces(
    run: Run, job: Job, house: HouseHeat, area: Fraction, spans: list[DateRange]
) -> tuple[Decimal, Decimal, list[Piece]]:
    """`area`'s share of the house heat (`round6`), prorated to the heated days of `spans`
    (inside the job) and spread over tariffs: (share, volume, pieces)."""
    places = run.places(job.service.unit)
    share = fround(Fraction(house.volume) * area / Fraction(house.building.total_area), places)
    span_days = sum(days(span) for span in spans)
    volume = share
    if span_days != house.heated_days:
        volume = prorate(share, span_days, house.heated_days, places)
    return share, volume, spread(run, job, spans, volume, places)


def _house_meter(run: Run, job: Job, spans: list[DateRange]) -> None:
    house = house_heat(run, job)
    if house is None:
        return
    account = run.account
    share, volume, pieces = heat_pieces(run, job, house, premise_area(account), spans)
    values: dict[str, Value] = {"house_meter": house.volume, "area": account.area}
    if account.share != 1:
        values["share"] = share_text(account.share)
    values["total_area"] = house.building.total_area
    values["share_volume"] = share
    span_days = sum(days(span) for span in spans)
    if span_days != house.heated_days:
        values["days"] = span_days
        values["period_days"] = house.heated_days
    priced_lines(run, job, pieces, volume, values, Rule.HEATING_BY_HOUSE_METER)
