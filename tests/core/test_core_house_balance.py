"""kvit.core house balance (2.8, 2.9): the volumes a rating reports as billed, the
common-house meter's volume, the `CommonHouseVolume`s of a building, and the two passes of
`rate_building` — worked example 10 end to end from readings, with a Hypothesis property
that `V_house = V_odpu − Σ billed` exactly. Numbers worked out by hand in the comments. No
database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_core_estimates_builders import COLD, DEC_2024, HALF_YEAR, bill_run, cold_inputs, monthly
from test_core_rating_builders import (
    CONFIG,
    JULY,
    LONG_AGO,
    connect,
    d,
    flat,
    meter,
    metered_service,
    norm,
    persons,
    reading,
)

from kvit.core import house_balance
from kvit.core.codes import (
    CommonMeter,
    ConsumerKind,
    MeterKind,
    Method,
    NormKind,
    PremiseKind,
    Resource,
    Rule,
    Unit,
    Zone,
)
from kvit.core.common_house import individual_volume
from kvit.core.config import Config, config_on
from kvit.core.consumption import NO_START_READING, READING_OUT_OF_RANGE
from kvit.core.house_balance import (
    HOUSE_METER_FAILED,
    HOUSE_METER_NO_READING,
    HOUSE_METER_VERIFICATION_EXPIRED,
    carries,
    house_meter_volume,
    house_volumes,
    measure_house_meters,
    rate_building,
)
from kvit.core.inputs import (
    Absence,
    Account,
    Building,
    CommonHouseVolume,
    Meter,
    PeriodInputs,
    Reading,
    Service,
)
from kvit.core.issues import Issue, Severity
from kvit.core.lines import ChargeLine, HouseCarry, Rating
from kvit.core.periods import Period
from kvit.core.rating import Staged, rate, rate_all
from kvit.core.tariffs import TariffBook

E = Resource.ELECTRICITY
JUNE_20, JULY_20 = date(2025, 6, 20), date(2025, 7, 20)
NO_CAP = config_on(date(2025, 7, 1), {"odn_cap_by_norm": "false"})
ZERO_MODE = config_on(date(2025, 7, 1), {"negative_odn_mode": "zero"})
LABEL = "building 12"

ELECTRICITY = metered_service(
    E, flat("6.43"), norms=(norm("60"),), increase_coefficient_applies=True
)
SOI = Service(
    "soi_electricity",
    "Электроэнергия на СОИ",
    Unit.KWH,
    Method.COMMON_HOUSE_BY_AREA,
    resource=E,
    tariffs=(flat("6.43"),),
    norms=(norm("0.73", NormKind.PER_COMMON_AREA),),
)
HEATING = Service(
    "heating",
    "Отопление",
    Unit.GCAL,
    Method.HEATING_BY_AREA,
    resource=Resource.HEAT,
    tariffs=(flat("3095.00"),),
    norms=(norm("0.0205", NormKind.PER_AREA),),
)
MAINTENANCE = Service("maintenance", "", Unit.M2, Method.PER_AREA, tariffs=(flat("33.40"),))
CATALOGUE: Mapping[str, Service] = {
    s.code: s for s in (ELECTRICITY, SOI, HEATING, MAINTENANCE, COLD)
}

# Example 10's building: S_total 4250.60, S_common 612.40, a common-house electricity meter.
HOUSE = Building(d("4250.60"), d("612.40"), common_meters={E: CommonMeter.PRESENT})
# The house meter through a 200/5 current transformer: V_odpu = (R_end − R_start) × 40.
ODPU = Meter(
    "ODPU-1",
    E,
    LONG_AGO,
    kind=MeterKind.COMMON_HOUSE,
    integer_digits=6,
    fraction_digits=2,
    transform_ratio=d("40"),
)


def odpu_readings(end: str, start: str = "1000.00") -> list[Reading]:
    return [reading("ODPU-1", JUNE_20, start), reading("ODPU-1", JULY_20, end)]


def premise(
    number: str,
    area: str,
    *codes: str,
    building: Building | None = HOUSE,
    **extra: Any,
) -> Account:
    return Account(number, LONG_AGO, d(area), services=connect(*codes), building=building, **extra)


def period_inputs(
    acc: Account,
    meters: Iterable[Meter] = (),
    readings: Iterable[Reading] = (),
    config: Config = CONFIG,
    period: Period = JULY,
) -> PeriodInputs:
    return PeriodInputs(period, acc, CATALOGUE, config, tuple(meters), tuple(readings))


def by_meter(
    number: str, area: str, start: str, end: str, config: Config = CONFIG, **extra: Any
) -> PeriodInputs:
    """An account with an electricity meter read on 20 June and 20 July."""
    serial = f"E-{number}"
    meter_extra = extra.pop("meter", {})
    return period_inputs(
        premise(number, area, "electricity", "soi_electricity", **extra),
        [meter(serial, E, **meter_extra)],
        [reading(serial, JUNE_20, start), reading(serial, JULY_20, end)],
        config,
    )


def example_10(config: Config = CONFIG) -> list[PeriodInputs]:
    """Example 10's premises, billed 10,870 kWh residential and 830 kWh non-residential:

    * flat 1 (54.30 m², the example's premise): by meter, 5250 − 5000 = 250 kWh;
    * flat 2: no reading in July, by its average: six months of 150 kWh → 150.000 kWh;
    * flat 3: no meter, 3 persons × 60 kWh = 180.000 kWh (the ×1.5 line repeats it);
    * flats 4–33: by meter, 343 kWh each = 10,290 kWh;
    * a shop (non-residential): by meter through a 40× transformer, (120.75 − 100) × 40 = 830.
    """
    flat2 = premise("2", "45.10", "electricity", "soi_electricity")
    history = monthly("E-2", DEC_2024, *(str(1000 + 150 * i) for i in range(7)), day=20)
    flat3 = premise("3", "61.00", "electricity", "soi_electricity", registrations=persons(3))
    shop = by_meter(
        "S1",
        "120.00",
        "100.00",
        "120.75",
        config,
        premise_kind=PremiseKind.NON_RESIDENTIAL,
        consumer_kind=ConsumerKind.LEGAL,
        meter={"transform_ratio": d("40"), "fraction_digits": 2},
    )
    others = [by_meter(str(n), "52.00", "1000", "1343", config) for n in range(4, 34)]
    return [
        by_meter("1", "54.30", "5000", "5250", config),
        period_inputs(flat2, [meter("E-2", E)], history, config),
        period_inputs(flat3, config=config),
        *others,
        shop,
    ]


def odpu(end: str) -> dict[Resource, Decimal]:
    volume, issues = house_meter_volume(ODPU, odpu_readings(end), JULY, CONFIG, LABEL)
    assert issues == ()
    assert volume is not None
    return {E: volume}


def soi_line(rating: Rating) -> ChargeLine:
    (line,) = (line for line in rating.lines if line.service == "soi_electricity")
    return line


# --- example 10 end to end ----------------------------------------------------------------------


def test_example_10_case_a_from_readings_through_both_passes() -> None:
    batch = example_10()
    meters = odpu("1312.50")  # (1312.50 − 1000.00) × 40 = 12,500 kWh
    assert meters == {E: d("12500.0000")}
    ratings = rate_building(batch, meters)
    assert all(rating.issues == () for rating in ratings)
    flat1, flat2, flat3, *_, shop = ratings
    assert flat1.volumes == {E: d("250")}
    assert flat2.volumes == {E: d("150.000")}
    assert flat2.lines[0].explanation.rule is Rule.AVERAGE
    assert flat3.volumes == {E: d("180.000")}  # the ×1.5 surcharge line is not counted twice
    assert [line.explanation.rule for line in flat3.lines][:2] == [
        Rule.NORM_PER_PERSON,
        Rule.NORM_COEFFICIENT,
    ]
    assert shop.volumes == {E: d("830.0000")}
    line = soi_line(flat1)
    assert (line.quantity, line.tariff, line.amount) == (d("5.711"), d("6.43"), d("36.72"))
    values = line.explanation.values
    assert (values["house_meter"], values["individual"], values["nonresidential"]) == (
        d("12500.0000"),
        d("10870.0000"),  # 250 + 150 + 180 + 30 × 343
        d("830.0000"),
    )
    assert values["house_volume"] == d("800.0000")
    assert (values["share_volume"], values["cap"]) == (d("10.220"), d("5.711"))
    assert carries(ratings) == {E: d("0")}
    # every premise gets its share; the balance is the same for all of them
    assert {soi_line(r).explanation.values["house_volume"] for r in ratings} == {d("800.0000")}


def test_example_10_case_b_and_without_the_cap() -> None:
    line = soi_line(rate_building(example_10(), odpu("1302.50"))[0])  # 12,100 kWh
    assert (line.quantity, line.amount) == (d("5.110"), d("32.86"))
    assert line.explanation.values["house_volume"] == d("400.0000")
    line = soi_line(rate_building(example_10(NO_CAP), odpu("1312.50"))[0])
    assert (line.quantity, line.amount) == (d("10.220"), d("65.71"))


def test_a_negative_house_volume_is_carried_into_the_next_month() -> None:
    batch = example_10()
    ratings = rate_building(batch, odpu("1275.00"))  # 11,000 − 10,870 − 830 = −700
    line = soi_line(ratings[0])
    assert (line.quantity, line.amount) == (d("0.000"), d("0.00"))
    assert line.explanation.values["house_volume"] == d("-700.0000")
    carried = carries(ratings)
    assert carried == {E: d("-700.0000")}
    assert ratings[0].carried == (HouseCarry(E, d("-700.0000")),)
    # next month's balance takes the carry off: 800 − 700 = 100 → round3(100 × 54.30 /
    # 4250.60) = 1.277 kWh × 6.43 = 8.21
    later = rate_building(batch, odpu("1312.50"), carried)
    line = soi_line(later[0])
    assert (line.quantity, line.amount) == (d("1.277"), d("8.21"))
    assert line.explanation.values["carried"] == d("-700.0000")
    assert carries(later) == {E: d("0")}


def test_zero_mode_discards_a_negative_house_volume() -> None:
    ratings = rate_building(example_10(ZERO_MODE), odpu("1275.00"))
    assert soi_line(ratings[0]).amount == d("0.00")
    assert carries(ratings) == {E: d("0")}
    # a carry passed by mistake changes nothing in zero mode
    later = rate_building(example_10(ZERO_MODE), odpu("1312.50"), {E: d("-700")})
    assert soi_line(later[0]).quantity == d("5.711")


def test_the_second_pass_keeps_the_first_pass_volumes_and_the_other_lines() -> None:
    batch = example_10()
    first = rate_all(batch)
    assert "house_volume_missing" in {issue.code for issue in first[0].issues}
    second = rate_building(batch, odpu("1312.50"))
    for before, after in zip(first, second, strict=True):
        assert after.volumes == before.volumes
        kept = [line for line in before.lines if line.service != "soi_electricity"]
        assert [line for line in after.lines if line.service != "soi_electricity"] == kept
        for resource, volume in after.volumes.items():
            assert individual_volume(after.lines, CATALOGUE, resource) == volume


# --- rate_building: when a second pass is needed -----------------------------------------------


def count_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def counted(batch: Sequence[PeriodInputs], book: Any = None) -> list[Rating]:
        calls.append(len(batch))
        return rate_all(batch, book)

    monkeypatch.setattr(house_balance, "rate_all", counted)
    return calls


def test_without_a_house_meter_one_pass_equals_rate_all(monkeypatch: pytest.MonkeyPatch) -> None:
    for common in ({}, {E: CommonMeter.ABSENT}, {E: CommonMeter.IMPOSSIBLE}):
        building = Building(d("4250.60"), d("612.40"), common_meters=common)
        batch = [_moved(item, building) for item in example_10()]
        expected = rate_all(batch)
        calls = count_passes(monkeypatch)
        assert rate_building(batch, odpu("1312.50")) == expected
        assert calls == [len(batch)]
        # by norm: round3(0.73 × 612.40 × 54.30 / 4250.60) = 5.711
        assert soi_line(expected[0]).explanation.values["house_volume"] == d("447.052000")


def test_accounts_without_a_building_are_rated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = [period_inputs(premise("1", "54.30", "maintenance", building=None))]
    calls = count_passes(monkeypatch)
    assert rate_building(batch, {}) == rate_all(batch)
    assert calls == [1]
    assert rate_building([], {}) == []


def test_a_house_meter_no_service_reads_is_rated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # electricity by meter, maintenance, common-house cold water by norm (no cold water house
    # meter), heating by norm (no heat meter), an unknown service: nothing reads V_odpu
    soi_cold = Service(
        "soi_cold",
        "",
        Unit.M3,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.COLD_WATER,
        tariffs=(flat("48.95"),),
        norms=(norm("0.03", NormKind.PER_COMMON_AREA),),
    )
    catalogue = {**CATALOGUE, "soi_cold": soi_cold}
    acc = premise("1", "54.30", "electricity", "maintenance", "soi_cold", "heating", "gone")
    batch = [PeriodInputs(JULY, acc, catalogue, CONFIG, (meter("E-1", E),))]
    calls = count_passes(monkeypatch)
    (rating,) = rate_building(batch, odpu("1312.50"))
    assert rating == rate(batch[0])
    assert calls == [1]
    assert "unknown_service" in {issue.code for issue in rating.issues}


def test_an_account_without_a_common_house_service_is_rated_as_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = example_10()
    batch[1] = period_inputs(premise("2", "45.10", "maintenance"))  # no common-house service
    calls = count_passes(monkeypatch)
    ratings = rate_building(batch, odpu("1312.50"))
    assert calls == []  # rated in two steps, each service once
    assert ratings == two_passes(batch, odpu("1312.50"))
    assert ratings[1] == rate(batch[1])
    # its volumes (none) change the balance: 12,500 − (10,870 − 150) − 830 = 950
    assert soi_line(ratings[0]).explanation.values["house_volume"] == d("950.0000")


def test_without_a_measured_house_volume_the_services_report_it() -> None:
    batch = example_10()[:2]
    ratings = rate_building(batch, {Resource.COLD_WATER: d("5")})  # no electricity figure
    assert ratings == rate_all(batch)
    assert [issue.code for issue in ratings[0].issues] == ["house_volume_missing"]


def test_the_accounts_in_step_two_share_one_building(monkeypatch: pytest.MonkeyPatch) -> None:
    first: list[list[str]] = []
    second: list[PeriodInputs] = []

    class Watched(Staged):
        def bill(self, chosen: Any) -> None:
            before = len(self.run.lines) if self.run else 0
            super().bill(chosen)
            first.append([line.service for line in self.run.lines[before:]] if self.run else [])

        def bill_rest(self, inputs: PeriodInputs) -> None:
            second.append(inputs)
            super().bill_rest(inputs)

    monkeypatch.setattr(house_balance, "Staged", Watched)
    batch = example_10()
    rate_building(batch, odpu("1312.50"))
    assert len(second) == len(batch)
    buildings = {id(item.account.building) for item in second}
    assert len(buildings) == 1
    building = second[0].account.building
    assert building is not None
    assert building.volumes == (
        CommonHouseVolume(E, d("12500.0000"), d("10870.0000"), d("830.0000")),
    )
    # the first step bills only what does not read the house figures
    assert len(first) == len(batch)
    assert all(services and "soi_electricity" not in services for services in first)


def two_passes(
    batch: Sequence[PeriodInputs],
    house_meters: Mapping[Resource, Decimal],
    carried: Mapping[Resource, Decimal] | None = None,
) -> list[Rating]:
    """The house balance the long way, as a reference: every account rated without the
    house figures, the figures from their volumes, every account rated again with them."""
    building = batch[0].account.building
    assert building is not None
    bare = replace(building, volumes=())
    first = rate_all([_moved(item, bare) for item in batch])
    figures = house_volumes(
        building,
        batch[0].period,
        house_meters,
        (
            (item.account.premise_kind, rating.volumes)
            for item, rating in zip(batch, first, strict=True)
        ),
        carried or {},
    )
    filled = replace(building, volumes=figures)
    return rate_all([_moved(item, filled) for item in batch])


def test_two_steps_give_what_two_whole_passes_give_also_with_an_absence() -> None:
    cold = metered_service(
        Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), absence_recalc_allowed=True
    )
    catalogue = {**CATALOGUE, "cold_water": cold}
    away = Absence("p0", date(2025, 7, 3), date(2025, 7, 19), filed_on=date(2025, 7, 25))
    absent = premise(
        "A",
        "40.00",
        "cold_water",
        "electricity",
        "soi_electricity",
        registrations=persons(3),
        meter_impossible=frozenset({Resource.COLD_WATER}),
        absences=(away,),
    )
    closed = replace(premise("C", "30.00", "soi_electricity"), closed_on=date(2025, 1, 1))
    batch = [
        replace(item, services=catalogue)
        for item in (*example_10(), period_inputs(absent), period_inputs(closed))
    ]
    ratings = rate_building(batch, odpu("1312.50"))
    assert ratings == two_passes(batch, odpu("1312.50"))
    assert ratings[-1] == Rating((), ())
    # the absent flat's 180 kWh of electricity count; its absence only lowers cold water
    assert ratings[-2].volumes[E] == d("180.000")
    assert soi_line(ratings[0]).explanation.values["individual"] == d("11050.000")


def test_staged_lines_and_issues_come_out_in_the_order_of_rate() -> None:
    """A service billed in the second step that `rate` orders before one of the first."""
    early_soi = replace(SOI, sort_order=-1)
    catalogue = {**CATALOGUE, "soi_electricity": early_soi}
    filled = replace(HOUSE, volumes=(CommonHouseVolume(E, d("12500"), d("10870"), d("830")),))
    item = _moved(replace(by_meter("1", "54.30", "5000", "5250"), services=catalogue), filled)
    whole = rate(item)
    assert whole.lines[0].service == "soi_electricity"
    staged = Staged(item, TariffBook())
    staged.bill(lambda service: service.code != "soi_electricity")
    staged.bill_rest(item)
    assert staged.finish() == whole


def test_house_figures_given_with_the_inputs_are_replaced() -> None:
    stale = replace(HOUSE, volumes=(CommonHouseVolume(E, d("99999")),))
    batch = [_moved(item, stale) for item in example_10()]
    line = soi_line(rate_building(batch, odpu("1312.50"))[0])
    assert line.explanation.values["house_volume"] == d("800.0000")


def test_heating_by_the_house_heat_meter_through_both_passes() -> None:
    building = Building(
        d("4250.60"),
        d("612.40"),
        common_meters={Resource.HEAT: CommonMeter.PRESENT, E: CommonMeter.ABSENT},
    )
    batch = [
        period_inputs(premise("1", "54.30", "heating", building=building)),
        period_inputs(premise("2", "61.00", "heating", "maintenance", building=building)),
    ]
    ratings = rate_building(batch, {Resource.HEAT: d("182.4")})
    first, second = (rating.lines[0] for rating in ratings)
    # round6(182.4 × 54.30 / 4250.60) = round6(2.3300992…) → × 3095.00 = 7211.6564…;
    # round6(182.4 × 61.00 / 4250.60) = round6(2.6176069…)
    assert (first.quantity, first.amount) == (d("2.330099"), d("7211.66"))
    assert (second.quantity, second.explanation.rule) == (
        d("2.617607"),
        Rule.HEATING_BY_HOUSE_METER,
    )
    # the share is the house meter's volume, not the premise's own
    assert [rating.volumes for rating in ratings] == [{}, {}]


def test_rate_building_needs_one_building_and_period() -> None:
    batch = example_10()[:2]
    other = Building(d("100"), d("10"))
    with pytest.raises(ValueError, match="not of the same building"):
        rate_building([batch[0], _moved(batch[1], other)], {})
    with pytest.raises(ValueError, match="and period"):
        rate_building([batch[0], replace(batch[1], period=Period(2025, 8))], {})
    equal = replace(HOUSE)  # an equal building, another object, is the same building
    assert len(rate_building([batch[0], _moved(batch[1], equal)], odpu("1312.50"))) == 2


def _moved(item: PeriodInputs, building: Building) -> PeriodInputs:
    return replace(item, account=replace(item.account, building=building))


# --- house_volumes --------------------------------------------------------------------------------


def test_house_volumes_add_up_each_kind_per_resource() -> None:
    building = Building(
        d("1000"),
        d("100"),
        common_meters={
            E: CommonMeter.PRESENT,
            Resource.COLD_WATER: CommonMeter.PRESENT,
            Resource.HOT_WATER: CommonMeter.ABSENT,
            Resource.GAS: CommonMeter.PRESENT,  # present, but not measured
        },
    )
    billed = [
        (PremiseKind.RESIDENTIAL, {E: d("100.5"), Resource.COLD_WATER: d("7.250")}),
        (PremiseKind.RESIDENTIAL, {E: d("-3.000")}),  # a true-up credit
        (PremiseKind.NON_RESIDENTIAL, {Resource.COLD_WATER: d("12")}),
        (PremiseKind.RESIDENTIAL, {}),
        (PremiseKind.NON_RESIDENTIAL, {Resource.HOT_WATER: d("4")}),
    ]
    meters = {E: d("500"), Resource.COLD_WATER: d("40"), Resource.HOT_WATER: d("9")}
    carried = {E: d("-20"), Resource.COLD_WATER: d("3")}  # a positive carry is no carry
    assert house_volumes(building, JULY, meters, iter(billed), carried) == (
        CommonHouseVolume(Resource.COLD_WATER, d("40"), d("7.250"), d("12"), d("0")),
        CommonHouseVolume(E, d("500"), d("97.5"), d("0"), d("-20")),
    )
    # January: the carry was reset at the end of the year
    (_cold, electricity) = house_volumes(building, Period(2026, 1), meters, billed, carried)
    assert electricity.carried_negative == d("0")
    assert house_volumes(Building(d("1"), d("1")), JULY, meters, billed) == ()


# --- the volumes a rating reports as billed ------------------------------------------------------


def test_a_true_up_in_this_period_counts_as_billed() -> None:
    history = monthly("C", DEC_2024, *HALF_YEAR, None, None, "220")
    september = Period(2025, 9)
    ratings = bill_run(lambda period: cold_inputs(history, period), JULY, september)
    assert ratings[JULY].volumes == {Resource.COLD_WATER: d("12.500")}  # by average
    # V_true − V_est = (220 − 175) − 2 × 12.500 = 20
    assert ratings[september].volumes == {Resource.COLD_WATER: d("20.000")}


def test_with_rerate_past_only_this_periods_share_counts() -> None:
    history = monthly("C", DEC_2024, *HALF_YEAR, None, None, "220")
    september = Period(2025, 9)
    rerate = config_on(date(2025, 7, 1), {"trueup_mode": "rerate_past"})
    ratings = bill_run(lambda period: cold_inputs(history, period, cfg=rerate), JULY, september)
    current, july, august = ratings[september].lines
    assert (july.explanation.corrects, august.explanation.corrects) == (JULY, Period(2025, 8))
    # 45 spread by days: 15.163 to July and August each (their recalculations do not count)
    assert (
        ratings[september].volumes
        == {Resource.COLD_WATER: d("14.674")}
        == {Resource.COLD_WATER: current.quantity}
    )
    lines = ratings[september].lines
    assert individual_volume(lines, {"cold_water": COLD}, Resource.COLD_WATER) == d("14.674")


def test_a_temporary_absence_lowers_the_volume_billed() -> None:
    cold = metered_service(
        Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), absence_recalc_allowed=True
    )
    away = Absence("p0", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 6, 25))
    acc = premise(
        "1",
        "54.30",
        "cold_water",
        registrations=persons(3),
        meter_impossible=frozenset({Resource.COLD_WATER}),
        absences=(away,),
    )
    rating = rate(PeriodInputs(Period(2025, 6), acc, {"cold_water": cold}, CONFIG))
    # 3 × 4.745 = 14.235 less round3(4.745 × 15/30) = 2.373 (example 16)
    assert [line.quantity for line in rating.lines] == [d("14.235"), d("-2.373")]
    assert rating.volumes == {Resource.COLD_WATER: d("11.862")}


def test_a_closed_account_reports_no_volumes() -> None:
    acc = replace(premise("1", "54.30", "electricity"), closed_on=date(2025, 1, 1))
    assert rate(period_inputs(acc)).volumes == {}


# --- the common-house meter's volume ----------------------------------------------------------


def house(meter_: Meter, readings: Iterable[Reading]) -> tuple[Decimal | None, tuple[Issue, ...]]:
    return house_meter_volume(meter_, readings, JULY, CONFIG, LABEL)


def test_the_house_meter_is_measured_like_a_premise_meter() -> None:
    readings = [
        *odpu_readings("1312.50"),
        reading("ODPU-1", date(2025, 7, 10), "1000000"),  # out of range: rejected, reported
        reading("E-1", date(2025, 7, 10), "5"),  # another meter's reading: ignored
    ]
    volume, (issue,) = house(ODPU, readings)
    assert volume == d("12500.0000")
    assert (issue.code, issue.account, issue.meter, issue.service) == (
        READING_OUT_OF_RANGE,
        LABEL,
        "ODPU-1",
        "",
    )


def test_two_zones_add_up_and_a_rollover_counts() -> None:
    two = replace(ODPU, zones=(Zone.DAY, Zone.NIGHT), transform_ratio=d("1"), integer_digits=5)
    readings = [
        reading("ODPU-1", JUNE_20, "99850", Zone.DAY),
        reading("ODPU-1", JULY_20, "120", Zone.DAY),  # rollover: 100000 − 99850 + 120 = 270
        reading("ODPU-1", JUNE_20, "4105", Zone.NIGHT),
        reading("ODPU-1", JULY_20, "4203", Zone.NIGHT),  # 98
    ]
    assert house(two, readings) == (d("368"), ())


def test_a_replaced_house_meter_adds_both_pieces() -> None:
    old = replace(ODPU, removed_on=date(2025, 7, 14))
    new = replace(ODPU, serial="ODPU-2", installed_on=date(2025, 7, 14))
    readings = [
        reading("ODPU-1", JUNE_20, "1000.00"),
        reading("ODPU-1", date(2025, 7, 14), "1150.00"),  # final: 150 × 40 = 6000
        reading("ODPU-2", date(2025, 7, 14), "0.00"),
        reading("ODPU-2", JULY_20, "160.00"),  # 160 × 40 = 6400
    ]
    unmeasured = replace(ODPU, serial="C-1", resource=Resource.COLD_WATER)
    volumes, issues = measure_house_meters([old, new, unmeasured], readings, JULY, CONFIG, LABEL)
    assert volumes == {E: d("12400.0000")}
    assert [issue.code for issue in issues] == [NO_START_READING]
    # one piece unmeasured: the resource has no volume
    volumes, issues = measure_house_meters([old, new], readings[:3], JULY, CONFIG, LABEL)
    assert (volumes, [issue.code for issue in issues]) == ({}, [HOUSE_METER_NO_READING])


def test_a_meter_installed_after_the_cutoff_measures_nothing_yet() -> None:
    late = replace(ODPU, installed_on=date(2025, 7, 28))
    assert house(late, [reading("ODPU-1", date(2025, 7, 28), "0")]) == (d("0"), ())


def test_no_usable_reading_or_no_start_reading_is_an_error() -> None:
    volume, (issue,) = house(ODPU, odpu_readings("1312.50")[:1])
    assert volume is None
    assert (issue.code, issue.severity) == (HOUSE_METER_NO_READING, Severity.ERROR)
    assert issue.values == {
        "zone": "total",
        "after": date(2025, 6, 25),
        "end": date(2025, 7, 25),
        "period": "2025-07",
    }
    assert issue.message() == (
        "account building 12, meter ODPU-1: zone total: no usable reading of the common-house "
        "meter after 25.06.2025 up to 25.07.2025; the house volume for 2025-07 is not known "
        "and the services that need it are not charged"
    )
    assert issue.message("ru").startswith("лицевой счёт building 12, счётчик ODPU-1: зона total")
    volume, issues = house(ODPU, odpu_readings("1312.50")[1:])
    assert (volume, [issue.code for issue in issues]) == (None, [NO_START_READING])


def test_a_failed_or_expired_house_meter_is_an_error() -> None:
    failed = replace(ODPU, failed_on=date(2025, 7, 10))
    volume, (issue,) = house(failed, odpu_readings("1312.50"))
    assert (volume, issue.code, issue.values) == (
        None,
        HOUSE_METER_FAILED,
        {"period": "2025-07", "day": date(2025, 7, 10)},
    )
    assert "failed on 10.07.2025" in issue.message()
    assert "вышел из строя 10.07.2025" in issue.message("ru")
    expired = replace(ODPU, verification_due=date(2025, 6, 1))
    volume, (issue,) = house(expired, odpu_readings("1312.50"))
    assert (volume, issue.code, issue.values["due"]) == (
        None,
        HOUSE_METER_VERIFICATION_EXPIRED,
        date(2025, 6, 1),
    )
    assert "was due on 01.06.2025" in issue.message()
    assert "истёк 01.06.2025" in issue.message("ru")
    # a failure after the cutoff leaves this period's window whole
    after = replace(ODPU, failed_on=date(2025, 7, 27))
    assert house(after, odpu_readings("1312.50")) == (d("12500.0000"), ())


# --- the balance, exactly, for any building (Hypothesis) ---------------------------------------

PREMISES = st.lists(
    st.tuples(
        st.sampled_from(list(PremiseKind)),
        st.one_of(
            st.integers(0, 5_000_000).map(lambda n: Decimal(n).scaleb(-3)),  # by meter
            st.integers(1, 5),  # by norm: persons
        ),
        st.integers(1500, 15000).map(lambda n: Decimal(n).scaleb(-2)),  # area
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60)
@given(
    premises=PREMISES,
    house_meter=st.integers(0, 30_000_000).map(lambda n: Decimal(n).scaleb(-3)),
    carried=st.integers(-2_000_000, 0).map(lambda n: Decimal(n).scaleb(-3)),
    zero_mode=st.booleans(),
    with_meter=st.booleans(),
)
def test_the_house_volume_is_the_meter_less_every_billed_volume(
    premises: list[tuple[PremiseKind, Decimal | int, Decimal]],
    house_meter: Decimal,
    carried: Decimal,
    zero_mode: bool,
    with_meter: bool,
) -> None:
    config = ZERO_MODE if zero_mode else CONFIG
    building = HOUSE if with_meter else Building(d("4250.60"), d("612.40"))
    batch: list[PeriodInputs] = []
    expected = {kind: Decimal(0) for kind in PremiseKind}
    for index, (kind, billed, area) in enumerate(premises):
        number, serial = str(index), f"E-{index}"
        codes = ("electricity", "soi_electricity")
        meters: tuple[Meter, ...] = ()
        readings: tuple[Reading, ...] = ()
        if isinstance(billed, Decimal):  # by meter, from 0 to the volume
            acc = premise(number, str(area), *codes, building=building, premise_kind=kind)
            meters = (meter(serial, E),)
            readings = (reading(serial, JUNE_20, "0"), reading(serial, JULY_20, str(billed)))
            expected[kind] += billed
        else:  # no meter: round3(60 × n) = 60n, and the ×1.5 line that repeats it
            acc = premise(
                number,
                str(area),
                *codes,
                building=building,
                premise_kind=kind,
                registrations=persons(billed),
            )
            expected[kind] += 60 * billed
        batch.append(PeriodInputs(JULY, acc, CATALOGUE, config, meters, readings))
    ratings = rate_building(batch, {E: house_meter}, {E: carried})
    assert all(rating.issues == () for rating in ratings)
    if not with_meter:
        assert ratings == rate_all(batch)
        return
    balance = (
        house_meter - expected[PremiseKind.RESIDENTIAL] - expected[PremiseKind.NON_RESIDENTIAL]
    )
    if not zero_mode:
        balance += carried
    for rating in ratings:
        values = soi_line(rating).explanation.values
        assert values["house_meter"] == house_meter
        assert values["individual"] == expected[PremiseKind.RESIDENTIAL]
        assert values["nonresidential"] == expected[PremiseKind.NON_RESIDENTIAL]
        assert values["house_volume"] == balance
    carry = balance if balance < 0 and not zero_mode else Decimal(0)
    assert carries(ratings) == {E: carry}
