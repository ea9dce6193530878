"""kvit.core temporary absence (2.14): worked example 16 and its counter-cases, every
eligibility condition, sewerage and solid waste, tariff and norm changes, with
hand-computed numbers. No database."""

from __future__ import annotations

from datetime import date
from typing import Any

from test_core_rating_builders import (
    LONG_AGO,
    PROVIDER,
    account,
    amounts,
    codes,
    d,
    flat,
    metered_service,
    norm,
    persons,
    rated,
    tiered,
    zoned,
)

from kvit.core.absence import add_months
from kvit.core.codes import LineKind, Method, NormKind, Resource, Rule, Unit
from kvit.core.explain import render
from kvit.core.inputs import Absence, ConnectedService, Registration, Service
from kvit.core.issues import Severity
from kvit.core.lines import Rating
from kvit.core.periods import Period

JUNE = Period(2025, 6)
JULY = Period(2025, 7)
COLD = metered_service(
    Resource.COLD_WATER,
    flat("48.95"),
    norms=(norm("4.745"),),
    name="Холодная вода",
    absence_recalc_allowed=True,
    increase_coefficient_applies=True,
)
HOT = metered_service(
    Resource.HOT_WATER,
    flat("245.67"),
    norms=(norm("3.5"),),
    absence_recalc_allowed=True,
    increase_coefficient_applies=True,
)
SEWERAGE = Service(
    "sewerage",
    "Водоотведение",
    Unit.M3,
    Method.METERED,
    summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
    absence_recalc_allowed=True,
    tariffs=(flat("40.00"),),
)
WASTE = Service(
    "solid_waste",
    "Обращение с ТКО",
    Unit.M3,
    Method.NORM_PER_PERSON,
    absence_recalc_allowed=True,
    tariffs=(flat("1052.00"),),
    norms=(norm("0.1"),),
)
IMPOSSIBLE = frozenset({Resource.COLD_WATER, Resource.HOT_WATER})
AWAY = Absence("p0", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 6, 25))


def absent(
    *absences: Absence,
    services: tuple[Service, ...] = (COLD,),
    period: Period = JUNE,
    **extra: Any,
) -> Rating:
    extra.setdefault("registrations", persons(3))
    extra.setdefault("meter_impossible", IMPOSSIBLE)
    acc = account(*(s.code for s in services), absences=absences, **extra)
    return rated(acc, services, period=period)


def recalculations(rating: Rating) -> list[tuple[str, str, str]]:
    return [
        (line.service, str(line.quantity), str(line.amount))
        for line in rating.lines
        if line.kind is LineKind.RECALCULATION
    ]


# --- example 16 ----------------------------------------------------------------------------------


def test_example_16_temporary_absence() -> None:
    rating = absent(AWAY)
    assert rating.issues == ()
    base, recalculation = rating.lines
    assert (base.quantity, base.amount) == (d("14.235"), d("696.80"))  # 3 × 4.745, K = 1
    assert recalculation.kind is LineKind.RECALCULATION
    assert recalculation.explanation.rule is Rule.ABSENCE
    # full days 4..18 June = 15; round3(4.745 × 1 × 15/30) = round3(2.3725) = 2.373;
    # 2.373 × 48.95 = 116.15835
    assert (recalculation.quantity, recalculation.tariff, recalculation.amount) == (
        d("-2.373"),
        d("48.95"),
        d("-116.16"),
    )
    assert recalculation.span.start == date(2025, 6, 4)
    assert recalculation.span.end == date(2025, 6, 19)
    assert recalculation.explanation.corrects is None
    assert recalculation.explanation.values == {
        "persons": 1,
        "departure": date(2025, 6, 3),
        "arrival": date(2025, 6, 19),
        "full_days": 15,
        "norm": d("4.745"),
        "days": 15,
        "period_days": 30,
    }
    assert rating.total == d("580.64")


def test_example_16_counter_case_five_full_days() -> None:
    short = Absence("p0", date(2025, 6, 3), date(2025, 6, 9), filed_on=date(2025, 6, 10))
    rating = absent(short)
    assert recalculations(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.severity, issue.service) == (
        "absence_too_short",
        Severity.WARNING,
        "",
    )
    assert issue.values["full_days"] == 5
    assert issue.values["minimum"] == 6
    assert issue.message("en") == (
        "account 1002003: the absence of p0 from 03.06.2025 to 09.06.2025 has 5 full days, "
        "fewer than 6; it is not recalculated (spec 2.14)"
    )
    assert issue.message("ru") == (
        "лицевой счёт 1002003: отсутствие p0 с 03.06.2025 по 09.06.2025: полных дней 5, меньше "
        "6; перерасчёт не делается (п. 2.14)"
    )


def test_example_16_counter_case_meter_not_impossible() -> None:
    rating = absent(AWAY, meter_impossible=frozenset())
    assert recalculations(rating) == []
    assert amounts(rating) == [d("696.80"), d("348.40")]  # norm × 1.5: no recalculation
    (issue,) = rating.issues
    assert (issue.code, issue.service, issue.values) == (
        "absence_meter_possible",
        "cold_water",
        {"resource": "cold_water"},
    )
    assert "technically impossible" in issue.message("en")


# --- eligibility ---------------------------------------------------------------------------------


def test_six_full_days_are_enough() -> None:
    six = Absence("p0", date(2025, 6, 3), date(2025, 6, 10), filed_on=date(2025, 6, 10))
    # round3(4.745 × 6/30) = 0.949; × 48.95 = 46.45355
    assert recalculations(absent(six)) == [("cold_water", "-0.949", "-46.45")]


def test_documents_must_be_filed_within_30_days_of_the_return() -> None:
    on_time = Absence("p0", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 7, 19))
    assert recalculations(absent(on_time)) == [("cold_water", "-2.373", "-116.16")]
    late = Absence("p0", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 7, 20))
    rating = absent(late)
    assert recalculations(rating) == []
    (issue,) = rating.issues
    assert issue.code == "absence_not_documented"
    assert issue.values["deadline"] == date(2025, 7, 19)
    assert issue.message("en") == (
        "account 1002003: the absence of p0 from 03.06.2025 to 19.06.2025: documents filed on "
        "“20.07.2025”, not by 19.07.2025 (30 days after the return); it is not recalculated "
        "(spec 2.14)"
    )
    unfiled = absent(Absence("p0", date(2025, 6, 3), date(2025, 6, 19)))
    assert codes(unfiled) == ["absence_not_documented"]
    assert "«»" in unfiled.issues[0].message("ru")


def test_an_application_covers_at_most_six_months() -> None:
    long = Absence("p0", date(2025, 1, 9), date(2025, 8, 1), filed_on=date(2025, 8, 5))
    july = absent(long, period=JULY)
    # covered from 10.01 until 10.07 (exclusive): 1..9 July; round3(4.745 × 9/31) = 1.378;
    # 1.378 × 48.95 = 67.4531
    assert recalculations(july) == [("cold_water", "-1.378", "-67.45")]
    (issue,) = july.issues
    assert (issue.code, issue.values["day"]) == ("absence_over_six_months", date(2025, 7, 10))
    assert "renewed" in issue.message("en")
    june = absent(long)
    assert recalculations(june) == [("cold_water", "-4.745", "-232.27")]  # 232.26775
    assert june.issues == ()
    august = absent(long, period=Period(2025, 8))
    assert (recalculations(august), august.issues) == ([], ())


def test_add_months_keeps_the_day_or_takes_the_last_one() -> None:
    assert add_months(date(2025, 1, 10), 6) == date(2025, 7, 10)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 1), 1) == date(2026, 1, 1)


def test_an_absence_across_two_months_recalculates_each_month_s_days() -> None:
    across = Absence("p0", date(2025, 6, 25), date(2025, 7, 10), filed_on=date(2025, 7, 11))
    # June: 26..30 = 5 days; round3(4.745 × 5/30) = round3(0.79083…) = 0.791
    assert recalculations(absent(across)) == [("cold_water", "-0.791", "-38.72")]
    # July: 1..9 = 9 days; round3(4.745 × 9/31) = 1.378
    assert recalculations(absent(across, period=JULY)) == [("cold_water", "-1.378", "-67.45")]


def test_absences_outside_the_period_and_services_without_the_flag_are_ignored() -> None:
    may = Absence("p0", date(2025, 5, 1), date(2025, 5, 20), filed_on=date(2025, 5, 21))
    assert absent(may).issues == ()
    plain = metered_service(Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),))
    short = Absence("p0", date(2025, 6, 3), date(2025, 6, 5))
    rating = absent(short, AWAY, services=(plain,))
    assert (recalculations(rating), rating.issues) == ([], ())
    assert absent().issues == ()


def test_heating_and_area_services_are_never_recalculated() -> None:
    heating = Service(
        "heating",
        "",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        resource=Resource.HEAT,
        absence_recalc_allowed=True,
        tariffs=(flat("3095"),),
        norms=(norm("0.0205", NormKind.PER_AREA),),
    )
    rating = absent(AWAY, services=(heating,))
    assert recalculations(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values) == ("absence_service_excluded", {"method": "heating_by_area"})
    assert "never recalculated" in issue.message("en")
    metered_heat = metered_service(Resource.HEAT, flat("3095"), absence_recalc_allowed=True)
    assert codes(absent(AWAY, services=(metered_heat,))) == ["no_norm", "absence_service_excluded"]
    fixed = Service(
        "intercom",
        "",
        Unit.ACCOUNT,
        Method.FIXED,
        absence_recalc_allowed=True,
        tariffs=(flat("55"),),
    )
    assert codes(absent(AWAY, services=(fixed,))) == ["absence_service_excluded"]


def test_only_days_the_absent_person_is_registered_count() -> None:
    leaving = (
        Registration("p0", LONG_AGO, date(2025, 6, 12)),
        Registration("p1", LONG_AGO),
        Registration("p2", LONG_AGO),
    )
    rating = absent(AWAY, registrations=leaving)
    # 4..11 June = 8 days; round3(4.745 × 8/30) = round3(1.26533…) = 1.265; × 48.95 = 61.92175
    assert recalculations(rating) == [("cold_water", "-1.265", "-61.92")]
    stranger = Absence("x", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 6, 25))
    assert (recalculations(absent(stranger)), absent(stranger).issues) == ([], ())


def test_persons_away_over_the_same_days_make_one_line() -> None:
    second = Absence("p1", date(2025, 6, 3), date(2025, 6, 19), filed_on=date(2025, 6, 20))
    rating = absent(AWAY, second)
    # round3(4.745 × 2 × 15/30) = 4.745; × 48.95 = 232.26775
    assert recalculations(rating) == [("cold_water", "-4.745", "-232.27")]
    assert rating.lines[1].explanation.values["persons"] == 2
    other = Absence("p1", date(2025, 6, 10), date(2025, 6, 30), filed_on=date(2025, 7, 1))
    # p1: 11..29 June = 19 days; round3(4.745 × 19/30) = round3(3.00516…) = 3.005;
    # 3.005 × 48.95 = 147.09475
    assert recalculations(absent(AWAY, other)) == [
        ("cold_water", "-2.373", "-116.16"),
        ("cold_water", "-3.005", "-147.09"),
    ]


def test_a_tariff_change_during_the_absence_splits_the_line() -> None:
    cold = metered_service(
        Resource.COLD_WATER,
        flat("48.95", end=date(2025, 6, 10)),
        flat("50.00", start=date(2025, 6, 10)),
        norms=(norm("4.745"),),
        absence_recalc_allowed=True,
    )
    rating = absent(AWAY, services=(cold,))
    # 4..9 June: round3(4.745 × 6/30) = 0.949 × 48.95 = 46.45355;
    # 10..18 June: round3(4.745 × 9/30) = round3(1.4235) = 1.424 × 50 = 71.20
    assert recalculations(rating) == [
        ("cold_water", "-0.949", "-46.45"),
        ("cold_water", "-1.424", "-71.20"),
    ]


# --- which services ------------------------------------------------------------------------------


def test_solid_waste_per_person_needs_no_meter_act() -> None:
    rating = absent(AWAY, services=(WASTE,), meter_impossible=frozenset())
    # round3(0.1 × 15/30) = 0.050; × 1052 = 52.60
    assert recalculations(rating) == [("solid_waste", "-0.050", "-52.60")]


def test_sewerage_adds_up_the_recalculated_water() -> None:
    rating = absent(AWAY, services=(COLD, HOT, SEWERAGE))
    # hot: round3(3.5 × 15/30) = 1.750 × 245.67 = 429.9225;
    # sewerage: 2.373 + 1.750 = 4.123 × 40 = 164.92
    assert recalculations(rating) == [
        ("cold_water", "-2.373", "-116.16"),
        ("hot_water", "-1.750", "-429.92"),
        ("sewerage", "-4.123", "-164.92"),
    ]
    sewerage = rating.lines[-1].explanation.values
    assert (sewerage["cold_water"], sewerage["hot_water"]) == (d("2.373"), d("1.750"))
    plain_hot = metered_service(Resource.HOT_WATER, flat("245.67"), norms=(norm("3.5"),))
    only_cold = absent(AWAY, services=(COLD, plain_hot, SEWERAGE))
    assert recalculations(only_cold)[-1] == ("sewerage", "-2.373", "-94.92")


def test_sewerage_needs_every_summed_meter_to_be_impossible() -> None:
    rating = absent(
        AWAY, services=(COLD, HOT, SEWERAGE), meter_impossible=frozenset({Resource.COLD_WATER})
    )
    assert recalculations(rating) == [("cold_water", "-2.373", "-116.16")]
    assert [(i.code, i.service, i.values["resource"]) for i in rating.issues] == [
        ("absence_meter_possible", "hot_water", "hot_water"),
        ("absence_meter_possible", "sewerage", "hot_water"),
    ]


def test_sewerage_with_a_tariff_change_splits_by_days() -> None:
    sewerage = Service(
        "sewerage",
        "Водоотведение",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
        absence_recalc_allowed=True,
        tariffs=(flat("40.00", end=date(2025, 6, 10)), flat("42.00", start=date(2025, 6, 10))),
    )
    rating = absent(AWAY, services=(COLD, HOT, sewerage))
    # 4.123 over 6 + 9 days: round3(4.123 × 6/15) = round3(1.6492) = 1.649, rest 2.474;
    # 1.649 × 40 = 65.96; 2.474 × 42 = 103.908
    assert recalculations(rating)[-2:] == [
        ("sewerage", "-1.649", "-65.96"),
        ("sewerage", "-2.474", "-103.91"),
    ]
    assert rating.lines[-1].explanation.values["volume"] == d("4.123")


def test_sewerage_without_a_tariff_for_part_of_the_absence() -> None:
    sewerage = Service(
        "sewerage",
        "",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
        absence_recalc_allowed=True,
        tariffs=(flat("40.00", start=date(2025, 6, 10)),),
    )
    rating = absent(AWAY, services=(COLD, HOT, sewerage))
    assert recalculations(rating)[-1] == ("sewerage", "-2.474", "-98.96")
    assert codes(rating) == ["no_tariff"]


def test_electricity_uses_the_norm_for_the_household_on_each_day() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(norm("100", persons=1), norm("70", persons=2), norm("60", persons=3)),
        absence_recalc_allowed=True,
    )
    impossible = frozenset({Resource.ELECTRICITY})
    steady = absent(
        AWAY, services=(electricity,), registrations=persons(2), meter_impossible=impossible
    )
    # round3(70 × 15/30) = 35.000; × 6.43 = 225.05
    assert recalculations(steady) == [("electricity", "-35.000", "-225.05")]
    growing = (*persons(2), Registration("p9", date(2025, 6, 10)))
    rating = absent(
        AWAY, services=(electricity,), registrations=growing, meter_impossible=impossible
    )
    # 4..9 June with 2 persons (70), 10..18 with 3 (60): (70 × 6 + 60 × 9) / 30 = 32.000
    assert recalculations(rating) == [("electricity", "-32.000", "-205.76")]
    assert "norm" not in rating.lines[-1].explanation.values


def test_prices_without_a_single_value_are_not_recalculated() -> None:
    impossible = frozenset({Resource.ELECTRICITY})
    stepped = metered_service(
        Resource.ELECTRICITY,
        tiered(("3900", "4.93"), (None, "8.27")),
        norms=(norm("70"),),
        absence_recalc_allowed=True,
    )
    rating = absent(AWAY, services=(stepped,), meter_impossible=impossible)
    assert recalculations(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values) == ("absence_tiered_tariff", {"day": date(2025, 6, 4)})
    assert "tiered" in issue.message("en")
    by_zone = metered_service(
        Resource.ELECTRICITY, zoned(day="4.93"), norms=(norm("70"),), absence_recalc_allowed=True
    )
    rating = absent(AWAY, services=(by_zone,), meter_impossible=impossible)
    assert (recalculations(rating), codes(rating)) == ([], ["no_tariff"])


def test_missing_tariff_norm_or_a_zero_norm_give_no_line() -> None:
    late_tariff = metered_service(
        Resource.COLD_WATER,
        flat("48.95", start=date(2025, 6, 10)),
        norms=(norm("4.745"),),
        absence_recalc_allowed=True,
    )
    # 10..18 June only: round3(4.745 × 9/30) = 1.424 × 48.95 = 69.7048
    assert recalculations(absent(AWAY, services=(late_tariff,))) == [
        ("cold_water", "-1.424", "-69.70")
    ]
    no_norm = metered_service(Resource.COLD_WATER, flat("48.95"), absence_recalc_allowed=True)
    rating = absent(AWAY, services=(no_norm,))
    assert (recalculations(rating), codes(rating)) == ([], ["no_norm"])
    zero = metered_service(
        Resource.COLD_WATER, flat("48.95"), norms=(norm("0"),), absence_recalc_allowed=True
    )
    assert recalculations(absent(AWAY, services=(zero,))) == []


# --- explanations --------------------------------------------------------------------------------


def test_absence_sentences() -> None:
    line = absent(AWAY).lines[1]
    assert render(line, "ru") == (
        "Холодная вода, временное отсутствие с 03.06.2025 по 19.06.2025 (полных дней: 15): "
        "4,745 м³ × 1 чел. × 15/30 = −2,373 м³ × 48,95 ₽ = −116,16 ₽ (за 04.06.2025–18.06.2025)"
    )
    assert render(line, "en") == (
        "Cold water, temporary absence from 03.06.2025 to 19.06.2025 (15 full days): "
        "4.745 m³ × 1 persons × 15/30 = -2.373 m³ × 48.95 RUB = -116.16 RUB "
        "(for 04.06.2025–18.06.2025)"
    )
    sewerage = absent(AWAY, services=(COLD, HOT, SEWERAGE)).lines[-1]
    assert render(sewerage, "en") == (
        "Sewerage, temporary absence from 03.06.2025 to 19.06.2025 (15 full days): "
        "2.373 + 1.750 = -4.123 m³ × 40.00 RUB = -164.92 RUB (for 04.06.2025–18.06.2025)"
    )


def test_absence_sentences_for_splits_mixed_groups_and_household_norms() -> None:
    sewerage = Service(
        "sewerage",
        "Водоотведение",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
        absence_recalc_allowed=True,
        tariffs=(flat("40.00", end=date(2025, 6, 10)), flat("42.00", start=date(2025, 6, 10))),
    )
    split = absent(AWAY, services=(COLD, HOT, sewerage)).lines[-1]
    assert render(split, "ru") == (
        "Водоотведение, временное отсутствие с 03.06.2025 по 19.06.2025 (полных дней: 15): "
        "(2,373 + 1,750) = 4,123 м³, доля периода = −2,474 м³ × 42,00 ₽ = −103,91 ₽ "
        "(за 10.06.2025–18.06.2025)"
    )
    leaving = (Registration("p0", LONG_AGO, date(2025, 6, 12)), *persons(3)[1:])
    other = Absence("p1", date(2025, 6, 3), date(2025, 6, 12), filed_on=date(2025, 6, 12))
    mixed = absent(AWAY, other, registrations=leaving).lines[-1]
    assert mixed.explanation.values["persons"] == 2
    assert render(mixed, "en").startswith("Cold water, temporary absence: 4.745 m³ × 2 persons")
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(norm("70", persons=2), norm("60", persons=3)),
        absence_recalc_allowed=True,
    )
    growing = (*persons(2), Registration("p9", date(2025, 6, 10)))
    line = absent(
        AWAY,
        services=(electricity,),
        registrations=growing,
        meter_impossible=frozenset({Resource.ELECTRICITY}),
    ).lines[-1]
    assert render(line, "en") == (
        "Electricity, temporary absence from 03.06.2025 to 19.06.2025 (15 full days): norm by "
        "household size, 1 persons × 15/30 = -32.000 kWh × 6.43 RUB = -205.76 RUB "
        "(for 04.06.2025–18.06.2025)"
    )


def test_only_the_days_the_service_and_the_registration_cover() -> None:
    late = (ConnectedService("cold_water", PROVIDER, date(2025, 6, 20)),)
    acc = account(
        services=late,
        registrations=persons(3),
        absences=(AWAY,),
        meter_impossible=IMPOSSIBLE,
    )
    assert recalculations(rated(acc, [COLD], period=JUNE)) == []  # connected after the return
    back = (
        Registration("p0", LONG_AGO, date(2025, 1, 1)),
        Registration("p0", date(2025, 6, 10)),
        *persons(3)[1:],
    )
    # counted again from 10 June: 10..18 = 9 days; round3(4.745 × 9/30) = 1.424 × 48.95
    assert recalculations(absent(AWAY, registrations=back)) == [("cold_water", "-1.424", "-69.70")]


def test_sewerage_without_recalculated_water_gives_nothing() -> None:
    plain_cold = metered_service(Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),))
    plain_hot = metered_service(Resource.HOT_WATER, flat("245.67"), norms=(norm("3.5"),))
    rating = absent(AWAY, services=(plain_cold, plain_hot, SEWERAGE))
    assert (recalculations(rating), rating.issues) == ([], ())
