"""kvit.core common-house needs (2.8) and heating by area (2.9): worked example 10 exactly,
the negative carry, proration, share accounts, the heating season and the house heat meter,
with hand-computed numbers. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from typing import Any

from test_core_rating_builders import (
    CONFIG,
    LONG_AGO,
    PROVIDER,
    account,
    amounts,
    codes,
    d,
    flat,
    norm,
    persons,
    quantities,
    rated,
)

from kvit.core.codes import CommonMeter, LineKind, Method, NormKind, Resource, Rule, Unit
from kvit.core.common_house import balance, individual_volume
from kvit.core.config import config_on
from kvit.core.dating import DateRange
from kvit.core.explain import render
from kvit.core.inputs import Building, CommonHouseVolume, ConnectedService, Service
from kvit.core.lines import HouseCarry, Rating
from kvit.core.periods import Period

OCTOBER = Period(2025, 10)
JUNE = Period(2025, 6)
SOI = Service(
    "soi_electricity",
    "Электроэнергия на СОИ",
    Unit.KWH,
    Method.COMMON_HOUSE_BY_AREA,
    resource=Resource.ELECTRICITY,
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
NO_CAP = config_on(date(2025, 7, 1), {"odn_cap_by_norm": "false"})
ZERO_MODE = config_on(date(2025, 7, 1), {"negative_odn_mode": "zero"})


def house(odpu: str = "12500", carried: str = "0", **extra: Any) -> Building:
    """Example 10's building with a common-house electricity meter."""
    return Building(
        d("4250.60"),
        d("612.40"),
        common_meters={Resource.ELECTRICITY: CommonMeter.PRESENT},
        volumes=(
            CommonHouseVolume(Resource.ELECTRICITY, d(odpu), d("10870"), d("830"), d(carried)),
        ),
        **extra,
    )


def soi(building: Building, service: Service = SOI, **kwargs: Any) -> Rating:
    extra = {key: kwargs.pop(key) for key in ("period", "config") if key in kwargs}
    return rated(account("soi_electricity", building=building, **kwargs), [service], **extra)


# --- example 10 -------------------------------------------------------------------------------


def test_example_10_case_a_is_capped_by_the_norm() -> None:
    rating = soi(house("12500"))
    assert rating.issues == ()
    (line,) = rating.lines
    assert (line.quantity, line.tariff, line.amount) == (d("5.711"), d("6.43"), d("36.72"))
    assert line.explanation.rule is Rule.COMMON_HOUSE
    assert line.explanation.values == {
        "norm": d("0.73"),
        "common_area": d("612.40"),
        "norm_volume": d("447.052"),  # 0.73 × 612.40
        "house_meter": d("12500"),
        "individual": d("10870"),
        "nonresidential": d("830"),
        "house_volume": d("800"),
        "area": d("54.30"),
        "total_area": d("4250.60"),
        "share_volume": d("10.220"),  # round3(800 × 54.30 / 4250.60) = round3(10.2197…)
        "cap": d("5.711"),  # round3(447.052 × 54.30 / 4250.60) = round3(5.71094…)
    }
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("0")),)


def test_example_10_case_b_is_under_the_cap() -> None:
    (line,) = soi(house("12100")).lines
    assert (line.quantity, line.amount) == (d("5.110"), d("32.86"))  # 5.110 × 6.43 = 32.8573
    assert "cap" not in line.explanation.values
    assert line.explanation.values["share_volume"] == d("5.110")


def test_example_10_case_a_without_the_cap() -> None:
    (line,) = soi(house("12500"), config=NO_CAP).lines
    assert (line.quantity, line.amount) == (d("10.220"), d("65.71"))  # 65.7146
    assert "norm" not in line.explanation.values  # the norm is not needed


def test_without_a_house_meter_the_house_volume_is_the_norm() -> None:
    for common in ({}, {Resource.ELECTRICITY: CommonMeter.IMPOSSIBLE}):
        building = Building(d("4250.60"), d("612.40"), common_meters=common)
        rating = soi(building)
        (line,) = rating.lines
        assert (line.quantity, line.amount) == (d("5.711"), d("36.72"))
        assert line.explanation.values["house_volume"] == d("447.052")
        assert "cap" not in line.explanation.values
        assert rating.carried == ()


def test_a_norm_changing_mid_month_is_weighted_by_days() -> None:
    service = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43"),),
        norms=(
            norm("0.73", NormKind.PER_COMMON_AREA, end=date(2025, 7, 16)),
            norm("0.80", NormKind.PER_COMMON_AREA, start=date(2025, 7, 16)),
        ),
    )
    (line,) = soi(Building(d("4250.60"), d("612.40")), service).lines
    # N = (0.73 × 15 + 0.80 × 16) / 31; V_house = N × 612.40 = 469.177419…;
    # V_i = round3(V_house × 54.30 / 4250.60) = 5.994; 5.994 × 6.43 = 38.54142
    assert (line.quantity, line.amount) == (d("5.994"), d("38.54"))
    values = line.explanation.values
    assert "norm" not in values
    assert values["house_volume"] == d("469.177419")


# --- negative house volumes ---------------------------------------------------------------------


def test_a_negative_house_volume_bills_zero_and_is_carried() -> None:
    rating = soi(house("11000"))  # 11000 − 10870 − 830 = −700
    (line,) = rating.lines
    assert (line.quantity, line.amount) == (d("0.000"), d("0.00"))
    assert line.explanation.values["house_volume"] == d("-700")
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("-700")),)


def test_the_carried_volume_is_subtracted_next_month() -> None:
    rating = soi(house("12500", carried="-700"), period=Period(2025, 8))
    (line,) = rating.lines
    # 800 − 700 = 100; round3(100 × 54.30 / 4250.60) = 1.277 (under the cap 5.711)
    assert (line.quantity, line.amount) == (d("1.277"), d("8.21"))
    assert line.explanation.values["carried"] == d("-700")
    assert line.explanation.values["house_volume"] == d("100")
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("0")),)


def test_a_carry_bigger_than_the_month_is_carried_on() -> None:
    rating = soi(house("12500", carried="-1000"), period=Period(2025, 8))
    assert amounts(rating) == [d("0.00")]
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("-200")),)


def test_the_carry_is_reset_at_the_end_of_the_calendar_year() -> None:
    december = soi(house("11000"), period=Period(2025, 12))
    assert december.carried == (HouseCarry(Resource.ELECTRICITY, d("0")),)
    january = soi(house("12500", carried="-700"), period=Period(2026, 1))
    assert quantities(january) == [d("5.711")]  # the carried −700 is not used
    assert "carried" not in january.lines[0].explanation.values


def test_zero_mode_discards_negative_volumes() -> None:
    rating = soi(house("11000"), config=ZERO_MODE)
    assert amounts(rating) == [d("0.00")]
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("0")),)
    later = soi(house("12500", carried="-700"), config=ZERO_MODE, period=Period(2025, 8))
    assert quantities(later) == [d("5.711")]


def test_balance_is_public_for_the_bill_run() -> None:
    figures = CommonHouseVolume(Resource.COLD_WATER, d("100"), d("90"), d("20"), d("-5"))
    assert balance(figures, Period(2025, 7), "carry_forward") == (d("-15"), d("-15"))
    assert balance(figures, Period(2025, 7), "zero") == (d("-10"), d("0"))


# --- proration, share accounts, tariff changes -------------------------------------------------


def test_an_account_opened_mid_month_gets_its_days() -> None:
    (line,) = soi(house(), opened_on=date(2025, 7, 17)).lines
    # round3(5.711 × 15/31) = round3(2.76338…) = 2.763; × 6.43 = 17.76609
    assert (line.quantity, line.amount) == (d("2.763"), d("17.77"))
    assert (line.explanation.values["days"], line.explanation.values["period_days"]) == (15, 31)


def test_a_tariff_change_splits_the_share_by_days() -> None:
    service = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43", end=date(2025, 7, 16)), flat("7.00", start=date(2025, 7, 16))),
        norms=(norm("0.73", NormKind.PER_COMMON_AREA),),
    )
    rating = soi(house(), service)
    # round3(5.711 × 15/31) = 2.763, the rest 2.948
    assert quantities(rating) == [d("2.763"), d("2.948")]
    assert amounts(rating) == [d("17.77"), d("20.64")]  # 17.76609, 20.636
    first, second = (line.explanation.values for line in rating.lines)
    assert (first["volume"], first["segment_days"], first["whole_days"]) == (d("5.711"), 15, 31)
    assert (second["volume"], second["others"]) == (d("5.711"), d("2.763"))


def test_a_share_account_uses_area_times_share() -> None:
    (line,) = soi(house(), share=Fraction(1, 2)).lines
    # S_i = 27.15: share round3(800 × 27.15 / 4250.60) = 5.110, cap round3(447.052 × 27.15 /
    # 4250.60) = 2.855; 2.855 × 6.43 = 18.35765
    assert (line.quantity, line.amount) == (d("2.855"), d("18.36"))
    assert line.explanation.values["share"] == "1/2"


def test_no_tariff_for_part_of_the_month() -> None:
    service = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43", start=date(2025, 7, 16)),),
        norms=(norm("0.73", NormKind.PER_COMMON_AREA),),
    )
    rating = soi(house(), service)
    assert codes(rating) == ["no_tariff"]
    assert quantities(rating) == [d("2.948")]


# --- what is missing -----------------------------------------------------------------------------


def test_missing_building_house_volumes_or_norm_are_errors() -> None:
    rating = rated(account("soi_electricity"), [SOI])
    assert codes(rating) == ["building_missing"]
    assert rating.issues[0].message("en") == (
        "account 1002003, service soi_electricity: the account has no building with a total "
        "area (spec 1.2), which common_house needs; the service is not charged"
    )
    assert codes(soi(Building(d("0"), d("0")))) == ["building_missing"]
    metered_house = Building(
        d("4250.60"), d("612.40"), common_meters={Resource.ELECTRICITY: CommonMeter.PRESENT}
    )
    missing = soi(metered_house)
    assert (codes(missing), missing.lines) == (["house_volume_missing"], ())
    assert missing.issues[0].values == {"resource": "electricity", "period": "2025-07"}
    no_norm = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43"),),
    )
    rating = soi(house(), no_norm)
    assert (codes(rating), rating.lines) == (["no_norm"], ())
    assert rating.issues[0].values["kind"] == "per_common_area"
    assert soi(house(), no_norm, config=NO_CAP).lines[0].quantity == d("10.220")


def test_one_carry_per_resource_when_a_service_is_connected_twice() -> None:
    services = (
        ConnectedService("soi_electricity", PROVIDER, LONG_AGO, date(2025, 7, 16)),
        ConnectedService("soi_electricity", PROVIDER, date(2025, 7, 16)),
    )
    rating = rated(account(services=services, building=house()), [SOI])
    assert quantities(rating) == [d("2.763"), d("2.948")]  # round3(5.711 × 15/31), 16/31
    assert rating.carried == (HouseCarry(Resource.ELECTRICITY, d("0")),)


# --- the first pass of a bill run ----------------------------------------------------------------


def test_individual_volume_adds_up_what_a_premise_was_billed() -> None:
    cold = Service(
        "cold_water",
        "",
        Unit.M3,
        Method.METERED,
        resource=Resource.COLD_WATER,
        increase_coefficient_applies=True,
        tariffs=(flat("48.95"),),
        norms=(norm("4.745"),),
    )
    soi_cold = Service(
        "soi_cold",
        "",
        Unit.M3,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.COLD_WATER,
        tariffs=(flat("48.95"),),
        norms=(norm("0.03", NormKind.PER_COMMON_AREA),),
    )
    maintenance = Service("maintenance", "", Unit.M2, Method.PER_AREA, tariffs=(flat("33.40"),))
    services = {s.code: s for s in (cold, soi_cold, maintenance)}
    acc = account(
        "cold_water",
        "soi_cold",
        "maintenance",
        registrations=persons(3),
        building=Building(d("4250.60"), d("612.40")),
    )
    rating = rated(acc, services.values())
    assert len(rating.lines) == 4  # base, ×K surcharge, common-house share, maintenance
    # 3 × 4.745 = 14.235: the surcharge and the common-house share are not counted
    assert individual_volume(rating.lines, services, Resource.COLD_WATER) == d("14.235")
    assert individual_volume(rating.lines, {}, Resource.COLD_WATER) == d("0")
    base = rating.lines[0]
    this_period = replace(
        base,
        kind=LineKind.RECALCULATION,
        quantity=d("-1.000"),
        explanation=replace(base.explanation, rule=Rule.TRUE_UP),
    )
    earlier = replace(this_period, explanation=replace(this_period.explanation, corrects=JUNE))
    lines = (*rating.lines, this_period, earlier)
    assert individual_volume(lines, services, Resource.COLD_WATER) == d("13.235")


# --- heating by area (2.9) -----------------------------------------------------------------------


def heated_house(**extra: Any) -> Building:
    return Building(d("4250.60"), d("612.40"), **extra)


def heating(building: Building | None, period: Period = OCTOBER, **kwargs: Any) -> Rating:
    return rated(account("heating", building=building, **kwargs), [HEATING], period=period)


def test_heating_by_norm_is_billed_only_in_the_season() -> None:
    season = (DateRange(date(2025, 10, 15), date(2026, 5, 1)),)
    rating = heating(heated_house(heating_season=season))
    (line,) = rating.lines
    # round6(0.0205 × 54.30 × 17/31) = round6(0.61043709…) = 0.610437; × 3095 = 1889.302515
    assert (line.quantity, line.amount) == (d("0.610437"), d("1889.30"))
    assert line.explanation.rule is Rule.NORM_PER_AREA
    assert line.span == DateRange(date(2025, 10, 15), date(2025, 11, 1))
    assert heating(heated_house(heating_season=season), Period(2025, 7)).lines == ()


def test_heating_without_a_season_is_billed_every_day() -> None:
    assert quantities(heating(heated_house())) == [d("1.113150")]
    assert quantities(heating(None)) == [d("1.113150")]  # no building at all: by norm


def test_two_stretches_of_a_season_in_one_month() -> None:
    season = (
        DateRange(date(2025, 10, 20), date(2025, 11, 1)),
        DateRange(date(2025, 10, 1), date(2025, 10, 6)),
    )
    rating = heating(heated_house(heating_season=season))
    assert [line.span.start for line in rating.lines] == [date(2025, 10, 1), date(2025, 10, 20)]


def test_heating_by_a_house_heat_meter() -> None:
    building = heated_house(
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
    )
    rating = heating(building)
    assert rating.issues == ()
    (line,) = rating.lines
    # round6(120.5 × 54.30 / 4250.60) = round6(1.53934738…) = 1.539347; × 3095 = 4764.278965
    assert (line.quantity, line.tariff, line.amount) == (d("1.539347"), d("3095.00"), d("4764.28"))
    assert line.explanation.rule is Rule.HEATING_BY_HOUSE_METER
    assert line.explanation.values == {
        "house_meter": d("120.5"),
        "area": d("54.30"),
        "total_area": d("4250.60"),
        "share_volume": d("1.539347"),
    }


def test_a_house_heat_meter_in_a_season_starting_mid_month() -> None:
    building = heated_house(
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
        heating_season=(DateRange(date(2025, 10, 15)),),
    )
    whole = heating(building)
    assert quantities(whole) == [d("1.539347")]  # the meter measured the heated days only
    assert whole.lines[0].span.start == date(2025, 10, 15)
    opened = heating(building, opened_on=date(2025, 10, 20), share=Fraction(1, 1))
    # 12 of the 17 heated days: round6(1.539347 × 12/17) = 1.086598; × 3095 = 3363.02081
    (line,) = opened.lines
    assert (line.quantity, line.amount) == (d("1.086598"), d("3363.02"))
    assert (line.explanation.values["days"], line.explanation.values["period_days"]) == (12, 17)
    assert heating(building, Period(2025, 7)).lines == ()


def test_a_house_heat_meter_without_volumes_or_total_area() -> None:
    building = heated_house(common_meters={Resource.HEAT: CommonMeter.PRESENT})
    assert codes(heating(building)) == ["house_volume_missing"]
    flat_building = Building(
        d("0"),
        d("0"),
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
    )
    assert codes(heating(flat_building)) == ["building_missing"]


def test_heating_share_account_by_house_meter() -> None:
    building = heated_house(
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
    )
    (line,) = heating(building, share=Fraction(1, 3)).lines
    # round6(120.5 × 18.10 / 4250.60) = round6(0.51311579…) = 0.513116
    assert line.quantity == d("0.513116")
    assert line.explanation.values["share"] == "1/3"


# --- explanations --------------------------------------------------------------------------------


def test_common_house_sentences() -> None:
    (line,) = soi(house("12500")).lines
    assert render(line, "en") == (
        "Электроэнергия на СОИ: house: 12,500 − 10,870 − 830 = 800 kWh; 800 kWh × 54.30 m² / "
        "4,250.60 m² = 10.220 kWh, capped at the norm 447.052 kWh × 54.30 m² / 4,250.60 m² = "
        "5.711 kWh × 6.43 RUB = 36.72 RUB"
    )
    assert render(line, "ru") == (
        "Электроэнергия на СОИ: дом: 12\u00a0500 − 10\u00a0870 − 830 = 800 кВт·ч; 800 кВт·ч × "
        "54,30 м² / 4\u00a0250,60 м² = 10,220 кВт·ч, не более норматива 447,052 кВт·ч × "
        "54,30 м² / 4\u00a0250,60 м² = 5,711 кВт·ч × 6,43 ₽ = 36,72 ₽"
    )
    (negative,) = soi(house("11000")).lines
    assert render(negative, "en") == (
        "Электроэнергия на СОИ: house: 11,000 − 10,870 − 830 = -700 kWh, below zero, 0 to pay "
        "= 0.000 kWh × 6.43 RUB = 0.00 RUB"
    )
    assert render(negative, "ru") == (
        "Электроэнергия на СОИ: дом: 11\u00a0000 − 10\u00a0870 − 830 = −700 кВт·ч, меньше нуля, "
        "к оплате 0 = 0,000 кВт·ч × 6,43 ₽ = 0,00 ₽"
    )
    (carried,) = soi(house("12500", carried="-700"), period=Period(2025, 8)).lines
    assert render(carried, "en") == (
        "Электроэнергия на СОИ: house: 12,500 − 10,870 − 830 + (-700, carried) = 100 kWh; "
        "100 kWh × 54.30 m² / 4,250.60 m² = 1.277 kWh × 6.43 RUB = 8.21 RUB"
    )
    (by_norm,) = soi(Building(d("4250.60"), d("612.40")), share=Fraction(1, 2)).lines
    assert render(by_norm, "ru") == (
        "Электроэнергия на СОИ: дом: 0,73 кВт·ч/м² × 612,40 м² = 447,052 кВт·ч; 447,052 кВт·ч × "
        "54,30 м² × 1/2 / 4\u00a0250,60 м² = 2,855 кВт·ч × 6,43 ₽ = 18,36 ₽"
    )


def test_common_house_sentences_with_days_and_tariff_changes() -> None:
    (opened,) = soi(house(), opened_on=date(2025, 7, 17)).lines
    assert render(opened, "en").endswith(
        "= 5.711 kWh × 15/31 = 2.763 kWh × 6.43 RUB = 17.77 RUB (for 17.07.2025–31.07.2025)"
    )
    service = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43", end=date(2025, 7, 16)), flat("7.00", start=date(2025, 7, 16))),
        norms=(
            norm("0.73", NormKind.PER_COMMON_AREA, end=date(2025, 7, 16)),
            norm("0.73", NormKind.PER_COMMON_AREA, start=date(2025, 7, 16)),
        ),
    )
    first, second = (render(line, "en") for line in soi(house(), service).lines)
    assert first.startswith("soi_electricity: house: 12,500")
    assert first.endswith(
        "= 5.711 kWh = 5.711 kWh; 5.711 × 15/31 = 2.763 kWh × 6.43 RUB = 17.77 RUB "
        "(for 01.07.2025–15.07.2025)"
    )
    assert second.endswith(
        "= 5.711 kWh; 5.711 − 2.763 = 2.948 kWh × 7.00 RUB = 20.64 RUB (for 16.07.2025–31.07.2025)"
    )
    norm_changes = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43"),),
        norms=(
            norm("0.73", NormKind.PER_COMMON_AREA, end=date(2025, 7, 16)),
            norm("0.80", NormKind.PER_COMMON_AREA, start=date(2025, 7, 16)),
        ),
    )
    (line,) = soi(Building(d("4250.60"), d("612.40")), norm_changes).lines
    assert render(line, "en").startswith("soi_electricity: house by norm: 469.177419 kWh; ")


def test_heating_sentences() -> None:
    building = heated_house(
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
        heating_season=(DateRange(date(2025, 10, 15)),),
    )
    (line,) = heating(building, opened_on=date(2025, 10, 20)).lines
    assert render(line, "ru") == (
        "Отопление: ОДПУ 120,5 Гкал × 54,30 м² / 4\u00a0250,60 м² = 1,539347 Гкал × 12/17 "
        "= 1,086598 Гкал × 3\u00a0095,00 ₽ = 3\u00a0363,02 ₽ (за 20.10.2025–31.10.2025)"
    )
    assert render(line, "en") == (
        "Heating: house meter 120.5 Gcal × 54.30 m² / 4,250.60 m² = 1.539347 Gcal × 12/17 "
        "= 1.086598 Gcal × 3,095.00 RUB = 3,363.02 RUB (for 20.10.2025–31.10.2025)"
    )


def test_config_default_is_capped_carry_forward() -> None:
    assert CONFIG.odn_cap_by_norm is True
    assert CONFIG.negative_odn_mode == "carry_forward"
