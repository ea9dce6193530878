"""kvit.core.rating beyond the worked examples: proration on opening and closing (2.13),
share accounts (2.10), fixed services, person-days and owners (1.6), sewerage (2.1),
transformer ratios, and every issue the rules raise. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from test_core_rating_builders import (
    ACCOUNT,
    CONFIG,
    JULY,
    LONG_AGO,
    account,
    amounts,
    area_service,
    codes,
    connect,
    d,
    flat,
    meter,
    metered_service,
    norm,
    persons,
    quantities,
    rated,
    reading,
    tiered,
    zoned,
)

from kvit.core.codes import (
    MeterStatus,
    Method,
    NormKind,
    ReadingKind,
    Resource,
    Rule,
    Unit,
    Zone,
)
from kvit.core.config import config_on
from kvit.core.inputs import (
    Building,
    ConnectedService,
    Registration,
    Service,
    TariffVersion,
)
from kvit.core.issues import Severity
from kvit.core.money import prorate, round2, round3
from kvit.core.periods import Period

JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)
MAINTENANCE = area_service("maintenance", flat("33.40"))
INTERCOM = Service("intercom", "Домофон", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("55.00"),))
COLD = metered_service(Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),))
HOT = metered_service(Resource.HOT_WATER, flat("245.67"), norms=(norm("3.5"),))
SEWERAGE = Service(
    "sewerage",
    "Водоотведение",
    Unit.M3,
    Method.METERED,
    summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
    tariffs=(flat("40.00"),),
)


def two_readings(serial: str, start: str, end: str, zone: Zone = Zone.TOTAL) -> list[object]:
    return [reading(serial, JUNE_25, start, zone), reading(serial, JULY_25, end, zone)]


# --- opening, closing and connection dates (2.13) -------------------------------------------


def test_account_opened_mid_month_prorates_per_area_and_fixed() -> None:
    rating = rated(
        account("maintenance", "intercom", opened_on=date(2025, 7, 10)), [MAINTENANCE, INTERCOM]
    )
    assert amounts(rating, "maintenance") == [prorate(d("54.30") * d("33.40"), 22, 31)]
    assert amounts(rating, "maintenance") == [d("1287.09")]
    assert amounts(rating, "intercom") == [d("39.03")]  # 55 × 22 / 31 = 39.032…
    (intercom,) = [line for line in rating.lines if line.service == "intercom"]
    assert intercom.explanation.values == {"days": 22, "period_days": 31}


def test_account_closed_mid_month_counts_days_before_the_close_date() -> None:
    rating = rated(account("maintenance", closed_on=date(2025, 7, 21)), [MAINTENANCE])
    (line,) = rating.lines
    assert line.explanation.values["days"] == 20
    assert line.amount == round2(d("54.30") * d("33.40") * 20 / 31)


def test_closed_account_and_future_service_give_nothing() -> None:
    closed = account("maintenance", opened_on=date(2024, 1, 1), closed_on=date(2025, 7, 1))
    assert rated(closed, [MAINTENANCE]).lines == ()
    later = account(services=connect("maintenance", start=date(2025, 8, 1)))
    assert rated(later, [MAINTENANCE]).lines == ()


def test_a_provider_change_mid_month_gives_one_line_per_provider() -> None:
    services = (
        ConnectedService("maintenance", "old-company", LONG_AGO, date(2025, 7, 16)),
        ConnectedService("maintenance", "new-company", date(2025, 7, 16)),
    )
    rating = rated(account(services=services), [MAINTENANCE])
    assert [(line.provider, line.amount) for line in rating.lines] == [
        ("old-company", d("877.56")),
        ("new-company", prorate(d("54.30") * d("33.40"), 16, 31)),
    ]


def test_fixed_service_for_a_whole_month() -> None:
    rating = rated(account("intercom"), [INTERCOM])
    (line,) = rating.lines
    assert (line.quantity, line.amount, line.unit) == (d("1"), d("55.00"), Unit.ACCOUNT)
    assert line.explanation.rule is Rule.FIXED


# --- share accounts (2.10) ------------------------------------------------------------------


def test_share_account_bills_the_exact_share_of_the_area() -> None:
    rating = rated(account("maintenance", share=Fraction(1, 3)), [MAINTENANCE])
    (line,) = rating.lines
    assert line.amount == d("604.54")  # 54.30 / 3 × 33.40 = 604.54 exactly
    assert line.quantity == d("18.10")
    assert line.explanation.values == {"area": d("54.30"), "share": "1/3"}


def test_share_account_with_a_non_terminating_area() -> None:
    acc = account("maintenance", area="54.31", share=Fraction(1, 3), opened_on=date(2025, 7, 2))
    (line,) = rated(acc, [MAINTENANCE]).lines
    assert line.quantity == d("18.103333")
    assert line.amount == prorate(d("54.31") * d("33.40"), 30, 93)  # one rounding, exact share


def test_share_account_norm_per_area() -> None:
    heating = Service(
        "heating",
        "Отопление",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        resource=Resource.HEAT,
        tariffs=(flat("3095.00"),),
        norms=(norm("0.0205", NormKind.PER_AREA),),
    )
    whole = rated(account("heating"), [heating])
    (line,) = whole.lines
    assert (line.quantity, line.amount) == (d("1.113150"), d("3445.20"))
    assert line.explanation.rule is Rule.NORM_PER_AREA
    half = rated(account("heating", share=Fraction(1, 2)), [heating])
    assert quantities(half) == [d("0.556575")]
    assert half.lines[0].explanation.values["share"] == "1/2"


# --- persons (1.6, 2.6) ---------------------------------------------------------------------

WASTE = Service(
    "solid_waste",
    "Обращение с ТКО",
    Unit.M3,
    Method.NORM_PER_PERSON,
    tariffs=(flat("1052.00"),),
    norms=(norm("0.1"),),
)


def test_person_days_when_someone_moves_in() -> None:
    registrations = (*persons(2), Registration("p9", date(2025, 7, 17)))
    rating = rated(account("solid_waste", registrations=registrations), [WASTE])
    (line,) = rating.lines
    assert line.quantity == round3(d("0.1") * 77 / 31)  # 2 × 31 + 15 person-days
    assert line.explanation.values == {"norm": d("0.1"), "person_days": 77, "period_days": 31}


def test_registrations_that_meet_on_one_day_count_as_one_run() -> None:
    registrations = (
        Registration("a", LONG_AGO, date(2025, 7, 10)),
        Registration("b", date(2025, 7, 10)),
    )
    (line,) = rated(account("solid_waste", registrations=registrations), [WASTE]).lines
    assert line.explanation.values["persons"] == 1


def test_owners_count_when_nobody_is_registered() -> None:
    (line,) = rated(account("solid_waste", owners=2), [WASTE]).lines
    assert line.quantity == d("0.200")
    assert line.explanation.values["persons_from"] == "owners"


def test_nobody_and_no_owners_gives_a_zero_line() -> None:
    (line,) = rated(account("solid_waste"), [WASTE]).lines
    assert (line.quantity, line.amount) == (d("0"), d("0"))
    assert "norm" not in line.explanation.values


def test_norm_by_rooms_and_persons_uses_each_days_row() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(
            norm("100", rooms=1, persons=1),
            norm("70", rooms=1, persons=2),
            norm("60", rooms=2, persons=1),
        ),
    )
    registrations = (Registration("a", LONG_AGO), Registration("b", date(2025, 7, 17)))
    acc = account("electricity", registrations=registrations, rooms=1)
    (line,) = rated(acc, [electricity]).lines
    assert line.quantity == round3((d("100") * 16 + d("70") * 2 * 15) / 31)
    assert "norm" not in line.explanation.values


def test_missing_norm_is_an_issue() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY, flat("6.43"), norms=(norm("60", rooms=2, persons=1),)
    )
    rating = rated(account("electricity", registrations=persons(1), rooms=1), [electricity])
    assert rating.lines == ()
    (issue,) = rating.issues
    assert issue.code == "no_norm"
    assert issue.values["persons"] == 1
    assert issue.message("en") == (
        "account 1002003, service electricity: no per_person norm for 01.07.2025 (1 rooms, "
        "1 persons); the days 01.07.2025–31.07.2025 are not charged"
    )


def test_norm_rows_fall_back_to_fewer_persons_and_rooms() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(norm("50", rooms=1, persons=1), norm("30", rooms=1, persons=5)),
    )
    acc = account("electricity", registrations=persons(6), rooms=3)
    assert quantities(rated(acc, [electricity])) == [d("180.000")]


def test_a_tiered_tariff_on_a_norm_volume_with_the_coefficient() -> None:
    social = metered_service(
        Resource.ELECTRICITY,
        tiered(("200", "450"), (None, "1350")),
        norms=(norm("110"),),
        method=Method.TIERED,
        increase_coefficient_applies=True,
    )
    rating = rated(account("electricity", registrations=persons(3)), [social])
    # 330 kWh: 200 × 450 + 130 × 1350; ×K (2.5): round2((90 000 + 175 500) × 0.5)
    assert [
        (line.explanation.rule, line.quantity, line.tariff, line.amount, line.tier)
        for line in rating.lines
    ] == [
        (Rule.TIER, d("200"), d("450"), d("90000.00"), 1),
        (Rule.TIER, d("130"), d("1350"), d("175500.00"), 2),
        (Rule.NORM_COEFFICIENT, d("330.000"), d("0"), d("132750.00"), 0),
    ]
    assert rating.lines[1].explanation.values["persons"] == 3
    assert rating.lines[2].explanation.values == {
        "volume": d("330.000"),
        "coefficient": d("1.5"),
        "tier_volume_1": d("200"),
        "tier_tariff_1": d("450"),
        "tier_volume_2": d("130"),
        "tier_tariff_2": d("1350"),
    }
    assert rating.total == d("398250.00")


def test_the_tiered_coefficient_is_rounded_once_over_the_tiers() -> None:
    ranges = metered_service(
        Resource.ELECTRICITY,
        tiered(("100", "4.9301"), (None, "8.275")),
        norms=(norm("70.001"),),
        method=Method.TIERED,
        increase_coefficient_applies=True,
    )
    lines = rated(account("electricity", registrations=persons(2)), [ranges]).lines
    # 140.002 kWh: 100 × 4.9301 + 40.002 × 8.275 = 493.01 + 331.01655 = 824.02655;
    # × 0.5 = 412.013275 → 412.01 (rounding per tier would give 246.51 + 165.51 = 412.02)
    assert [line.amount for line in lines] == [d("493.01"), d("331.02"), d("412.01")]


def test_no_coefficient_on_tiers_when_a_meter_is_impossible() -> None:
    social = metered_service(
        Resource.ELECTRICITY,
        tiered(("200", "450"), (None, "1350")),
        norms=(norm("110"),),
        method=Method.TIERED,
        increase_coefficient_applies=True,
    )
    acc = account(
        "electricity",
        registrations=persons(3),
        meter_impossible=frozenset({Resource.ELECTRICITY}),
    )
    rules = [line.explanation.rule for line in rated(acc, [social]).lines]
    assert rules == [Rule.TIER, Rule.TIER]


def test_missing_area_norm_is_an_issue() -> None:
    heating = Service("heating", "", Unit.GCAL, Method.NORM_PER_AREA, tariffs=(flat("3000"),))
    rating = rated(account("heating"), [heating])
    assert codes(rating) == ["no_norm"]


# --- sewerage and volumes (2.1) -------------------------------------------------------------


def test_sewerage_is_cold_plus_hot() -> None:
    rating = rated(
        account("sewerage", "cold_water", "hot_water"),
        [SEWERAGE, COLD, HOT],
        [meter("C", Resource.COLD_WATER), meter("H", Resource.HOT_WATER)],
        [*two_readings("C", "10.000", "17.750"), *two_readings("H", "5.000", "8.200")],
    )
    assert rating.issues == ()
    assert [line.service for line in rating.lines] == ["cold_water", "hot_water", "sewerage"]
    sewerage = rating.lines[2]
    assert (sewerage.quantity, sewerage.amount) == (d("10.950"), d("438.00"))
    assert sewerage.explanation.values == {"cold_water": d("7.750"), "hot_water": d("3.200")}


def test_sewerage_adds_a_norm_volume_and_splits_on_a_tariff_change() -> None:
    sewerage = Service(
        "sewerage",
        "",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
        tariffs=(flat("40.00", end=date(2025, 7, 16)), flat("42.00", start=date(2025, 7, 16))),
    )
    rating = rated(
        account("sewerage", "cold_water", "hot_water", registrations=persons(1)),
        [sewerage, COLD, HOT],
        [meter("C", Resource.COLD_WATER)],
        two_readings("C", "10.000", "17.750"),
    )
    first, second = [line for line in rating.lines if line.service == "sewerage"]
    assert first.quantity == round3(d("11.250") * 15 / 31)
    assert first.quantity + second.quantity == d("11.250")
    assert first.explanation.values["days"] == 15
    assert second.explanation.values["others"] == first.quantity


def test_sewerage_without_a_resource_volume_is_an_issue() -> None:
    rating = rated(account("sewerage"), [SEWERAGE])
    (issue,) = rating.issues
    assert (issue.code, issue.values["resource"]) == ("volume_missing", "cold_water")


def test_sewerage_without_a_tariff() -> None:
    sewerage = Service(
        "sewerage", "", Unit.M3, Method.METERED, summed_resources=(Resource.COLD_WATER,)
    )
    rating = rated(account("sewerage", "cold_water", registrations=persons(1)), [sewerage, COLD])
    assert codes(rating) == ["no_tariff"]


def test_transformer_ratio_multiplies_the_difference() -> None:
    legal = metered_service(Resource.ELECTRICITY, flat("7.13"))
    rating = rated(
        account("electricity"),
        [legal],
        [meter("T-1", Resource.ELECTRICITY, transform_ratio=d("40"))],
        two_readings("T-1", "1234.5", "1300.25"),
    )
    (line,) = rating.lines
    assert line.quantity == d("2630.000")
    assert line.amount == round2(d("2630") * d("7.13"))


def test_flat_tariff_for_a_two_zone_meter_prices_the_sum_once() -> None:
    service = metered_service(Resource.ELECTRICITY, flat("6.43"))
    rating = rated(
        account("electricity"),
        [service],
        [meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
        [*two_readings("E", "100", "150", Zone.DAY), *two_readings("E", "10", "30", Zone.NIGHT)],
    )
    (line,) = rating.lines
    assert (line.zone, line.quantity) == ("", d("70"))


def test_three_zones_and_a_zone_without_a_price() -> None:
    service = metered_service(
        Resource.ELECTRICITY, zoned(peak="7.5", night="3.0"), method=Method.TIME_OF_USE
    )
    zones = (Zone.PEAK, Zone.SEMIPEAK, Zone.NIGHT)
    rating = rated(
        account("electricity"),
        [service],
        [meter("E", Resource.ELECTRICITY, zones=zones)],
        [
            *two_readings("E", "100", "110", Zone.PEAK),
            *two_readings("E", "200", "220", Zone.SEMIPEAK),
            *two_readings("E", "300", "330", Zone.NIGHT),
        ],
    )
    assert [(line.zone, line.amount) for line in rating.lines] == [
        ("peak", d("75.00")),
        ("night", d("90.00")),
    ]
    (issue,) = rating.issues
    assert (issue.code, issue.values["zone"]) == ("no_tariff", "semipeak")


def test_single_rate_meter_under_a_zone_only_tariff_has_no_price() -> None:
    service = metered_service(Resource.ELECTRICITY, zoned(day="4.93", night="2.96"))
    rating = rated(
        account("electricity"),
        [service],
        [meter("E", Resource.ELECTRICITY)],
        two_readings("E", "100", "110"),
    )
    assert rating.lines == ()
    assert codes(rating) == ["no_tariff"]


# --- tariffs missing or changing ------------------------------------------------------------


def test_a_day_with_no_tariff_names_the_service_and_the_date() -> None:
    late = area_service("maintenance", flat("33.40", start=date(2025, 7, 10)))
    rating = rated(account("maintenance"), [late])
    (issue,) = rating.issues
    assert (issue.code, issue.service, issue.values["day"]) == (
        "no_tariff",
        "maintenance",
        date(2025, 7, 1),
    )
    assert issue.message("ru") == (
        "лицевой счёт 1002003, услуга maintenance: нет тарифа на 01.07.2025 (тарифная группа "
        "«», зона total); дни 01.07.2025–09.07.2025 не начислены"
    )
    assert amounts(rating) == [prorate(d("54.30") * d("33.40"), 22, 31)]


def test_no_tariff_for_every_kind_of_rule() -> None:
    empty = TariffVersion(LONG_AGO)  # a version with no value, tiers or zones
    services = [
        area_service("maintenance", empty),
        Service("intercom", "", Unit.ACCOUNT, Method.FIXED, tariffs=(empty,)),
        Service(
            "solid_waste", "", Unit.M3, Method.NORM_PER_PERSON, tariffs=(empty,), norms=(norm("1"),)
        ),
        Service(
            "heating",
            "",
            Unit.GCAL,
            Method.NORM_PER_AREA,
            tariffs=(empty,),
            norms=(norm("1", NormKind.PER_AREA),),
        ),
        metered_service(Resource.COLD_WATER, empty),
        metered_service(Resource.HOT_WATER),
    ]
    rating = rated(
        account(*(service.code for service in services), registrations=persons(1)),
        services,
        [meter("C", Resource.COLD_WATER), meter("H", Resource.HOT_WATER)],
        [*two_readings("C", "1", "2"), *two_readings("H", "1", "2")],
    )
    assert rating.lines == ()
    assert codes(rating) == ["no_tariff"] * 6


def test_tariff_group_falls_back_to_the_general_tariff() -> None:
    service = metered_service(
        Resource.ELECTRICITY, flat("6.43"), flat("4.50", group="electric_stove")
    )
    stove = (ConnectedService("electricity", "p", LONG_AGO, tariff_group="electric_stove"),)
    other = (ConnectedService("electricity", "p", LONG_AGO, tariff_group="unknown"),)
    meters = [meter("E", Resource.ELECTRICITY)]
    readings = two_readings("E", "100", "200")
    assert amounts(rated(account(services=stove), [service], meters, readings)) == [d("450.00")]
    assert amounts(rated(account(services=other), [service], meters, readings)) == [d("643.00")]


def test_tiered_bounds_are_prorated_on_a_part_of_the_month() -> None:
    change = date(2025, 7, 16)
    service = metered_service(
        Resource.ELECTRICITY,
        TariffVersion(LONG_AGO, change, tiers=tiered(("310", "5"), (None, "8")).tiers),
        TariffVersion(change, tiers=tiered(("310", "6"), (None, "9")).tiers),
        method=Method.TIERED,
    )
    rating = rated(
        account("electricity"),
        [service],
        [meter("E", Resource.ELECTRICITY)],
        two_readings("E", "0", "620"),
    )
    # 620 kWh: 300 for 15 days, 320 for 16; bounds 150 and 160
    assert [(line.quantity, line.tier) for line in rating.lines] == [
        (d("150"), 1),
        (d("150"), 2),
        (d("160"), 1),
        (d("160"), 2),
    ]
    assert rating.lines[2].explanation.values["upper"] == d("160")


def test_zero_volume_gives_one_first_tier_line() -> None:
    service = metered_service(
        Resource.ELECTRICITY, tiered(("100", "5"), (None, "8")), method=Method.TIERED
    )
    rating = rated(
        account("electricity"),
        [service],
        [meter("E", Resource.ELECTRICITY)],
        two_readings("E", "50", "50"),
    )
    assert [(line.quantity, line.amount, line.tier) for line in rating.lines] == [
        (d("0"), d("0.00"), 1)
    ]


def test_three_tariff_segments_split_by_days_with_the_remainder_last() -> None:
    service = metered_service(
        Resource.COLD_WATER,
        flat("10", end=date(2025, 7, 11)),
        flat("11", start=date(2025, 7, 11), end=date(2025, 7, 21)),
        flat("12", start=date(2025, 7, 21)),
    )
    rating = rated(
        account("cold_water"),
        [service],
        [meter("C", Resource.COLD_WATER)],
        two_readings("C", "0", "10"),
    )
    assert quantities(rating) == [d("3.226"), d("3.226"), d("3.548")]


def test_split_by_readings_needs_a_reading_on_every_change_date() -> None:
    service = metered_service(
        Resource.COLD_WATER,
        flat("10", end=date(2025, 7, 11)),
        flat("11", start=date(2025, 7, 11), end=date(2025, 7, 21)),
        flat("12", start=date(2025, 7, 21)),
    )
    readings = [*two_readings("C", "0", "10"), reading("C", date(2025, 7, 11), "5")]
    rating = rated(account("cold_water"), [service], [meter("C", Resource.COLD_WATER)], readings)
    assert quantities(rating) == [d("3.226"), d("3.226"), d("3.548")]


def test_a_replacement_across_a_tariff_change_splits_each_meter_by_its_own_days() -> None:
    change = date(2025, 7, 16)
    hot = metered_service(
        Resource.HOT_WATER, flat("245.67", end=change), flat("260.00", start=change)
    )
    meters = [
        meter("old", Resource.HOT_WATER, removed_on=date(2025, 7, 11)),
        meter("new", Resource.HOT_WATER, installed_on=date(2025, 7, 11)),
    ]
    readings = [
        reading("old", JUNE_25, "10.000"),
        reading("old", date(2025, 7, 11), "13.000", kind=ReadingKind.FINAL),
        reading("new", date(2025, 7, 11), "0.000", kind=ReadingKind.INITIAL),
        reading("new", JULY_25, "4.200"),
    ]
    rating = rated(account("hot_water"), [hot], meters, readings)
    first, second = rating.lines
    # old: all 3.000 before the change; new: 4.200 × 5/21 = 1.000 before, 3.200 after
    assert (first.quantity, second.quantity) == (d("4.000"), d("3.200"))
    assert set(first.explanation.values) == {"volume"}


# --- readings: the window, capacity, missing and unusable readings --------------------------


def test_reading_beyond_capacity_is_rejected_with_an_issue() -> None:
    rating = rated(
        account("cold_water"),
        [COLD],
        [meter("C", Resource.COLD_WATER, integer_digits=5)],
        [
            reading("C", JUNE_25, "100.000"),
            reading("C", date(2025, 7, 20), "107.000"),
            reading("C", JULY_25, "100000.000"),
            reading("C", date(2025, 7, 24), "-1"),
        ],
    )
    negative, beyond = rating.issues
    assert (beyond.code, beyond.values["value"], beyond.values["capacity"]) == (
        "reading_out_of_range",
        d("100000.000"),
        d("100000"),
    )
    assert negative.values["value"] == d("-1")
    assert "does not fit the meter" in beyond.message("en")
    assert quantities(rating) == [d("7.000")]


def test_rejected_history_is_skipped_silently() -> None:
    rating = rated(
        account("cold_water"),
        [COLD],
        [meter("C", Resource.COLD_WATER, integer_digits=3)],
        [
            reading("C", date(2025, 5, 25), "5000"),
            reading("C", date(2025, 5, 26), "100"),
            reading("C", date(2025, 6, 1), "50"),
            reading("C", JULY_25, "110"),
        ],
    )
    assert rating.issues == ()
    assert quantities(rating) == [d("10")]


def test_missing_reading_and_missing_start() -> None:
    missing = rated(
        account("cold_water"),
        [COLD],
        [meter("C", Resource.COLD_WATER)],
        [reading("C", JUNE_25, "1")],
    )
    # no reading and no history to average: by norm (2.4, estimates tested in
    # test_core_estimates*.py)
    assert codes(missing) == []
    assert [line.explanation.rule for line in missing.lines] == [Rule.NORM_PER_PERSON]
    no_start = rated(
        account("cold_water"),
        [COLD],
        [meter("C", Resource.COLD_WATER)],
        [reading("C", JULY_25, "1")],
    )
    assert codes(no_start) == ["no_start_reading"]
    assert no_start.issues[0].values["day"] == date(2025, 6, 25)


def test_readings_after_the_cutoff_belong_to_the_next_period() -> None:
    readings = [*two_readings("C", "1", "2"), reading("C", date(2025, 7, 28), "9")]
    rating = rated(account("cold_water"), [COLD], [meter("C", Resource.COLD_WATER)], readings)
    assert quantities(rating) == [d("1")]
    august = rated(
        account("cold_water"),
        [COLD],
        [meter("C", Resource.COLD_WATER)],
        [*readings, reading("C", date(2025, 8, 25), "12")],
        period=Period(2025, 8),
    )
    assert quantities(august) == [d("10")]


def test_a_closing_account_takes_its_final_reading_after_the_cutoff() -> None:
    readings = [*two_readings("C", "1", "2"), reading("C", date(2025, 8, 1), "4")]
    acc = account("cold_water", closed_on=date(2025, 8, 1))
    rating = rated(acc, [COLD], [meter("C", Resource.COLD_WATER)], readings)
    assert quantities(rating) == [d("3")]


def test_an_account_opened_after_the_cutoff_is_metered_from_next_period() -> None:
    acc = account("cold_water", opened_on=date(2025, 7, 28))
    readings = [*two_readings("C", "1", "2"), reading("C", date(2025, 7, 28), "3")]
    meters = [meter("C", Resource.COLD_WATER)]
    july = rated(acc, [COLD], meters, readings)
    assert (july.lines, july.issues) == ((), ())
    august = rated(
        acc,
        [COLD],
        meters,
        [*readings, reading("C", date(2025, 8, 25), "7")],
        period=Period(2025, 8),
    )
    assert quantities(august) == [d("4")]


def test_verification_expiry_stops_readings() -> None:
    expired = meter("C", Resource.COLD_WATER, verification_due=date(2025, 7, 10))
    readings = [
        *two_readings("C", "1", "9"),
        reading("C", date(2025, 7, 10), "4"),
    ]
    rating = rated(account("cold_water"), [COLD], [expired], readings)
    (issue,) = rating.issues
    assert (issue.code, issue.severity, issue.values["day"], issue.values["due"]) == (
        "meter_verification_expired",
        Severity.WARNING,
        date(2025, 7, 11),  # failed from the day after the due date
        date(2025, 7, 10),
    )
    # the reading of the due date counts; 11–31 July are estimated (norm: no history)
    assert quantities(rating) == [d("3"), d("0.000")]
    long_expired = meter("C", Resource.COLD_WATER, verification_due=date(2025, 6, 30))
    rating = rated(account("cold_water"), [COLD], [long_expired], two_readings("C", "1", "9"))
    assert [(i.code, i.severity) for i in rating.issues] == [
        ("meter_verification_expired", Severity.WARNING)
    ]
    assert [line.explanation.reason for line in rating.lines] == ["verification_expired"]


def test_verification_freeze_window_postpones_the_expiry() -> None:
    config = config_on(
        date(2025, 7, 1),
        {"verification_freeze_windows": '[{"from": "2025-07-01", "to": "2025-07-31"}]'},
    )
    frozen = meter("C", Resource.COLD_WATER, verification_due=date(2025, 7, 5))
    rating = rated(
        account("cold_water"), [COLD], [frozen], two_readings("C", "1", "9"), config=config
    )
    assert rating.issues == ()
    assert quantities(rating) == [d("8")]
    assert CONFIG.verification_freeze_windows[0].first == date(2020, 4, 6)


def test_failed_meter_readings_after_the_failure_are_not_used() -> None:
    failed = meter("C", Resource.COLD_WATER, status=MeterStatus.FAILED, failed_on=date(2025, 7, 5))
    rating = rated(account("cold_water"), [COLD], [failed], two_readings("C", "1", "9"))
    assert [(i.code, i.values["day"]) for i in rating.issues] == [
        ("meter_failed", date(2025, 7, 5))
    ]
    assert "the meter failed on 05.07.2025" in rating.issues[0].message("en")


def test_a_meter_removed_without_replacement_leaves_a_gap() -> None:
    gone = meter("C", Resource.COLD_WATER, removed_on=date(2025, 7, 20))
    readings = [*two_readings("C", "1", "9"), reading("C", date(2025, 7, 20), "5")]
    rating = rated(account("cold_water"), [COLD], [gone], readings)
    assert rating.issues == ()
    # 20–31 July: the removed meter's average, here without history: the norm (2.3, 2.4)
    assert quantities(rating) == [d("4"), d("0.000")]
    assert rating.lines[1].span.start == date(2025, 7, 20)


def test_gaps_before_and_between_meters() -> None:
    meters = [
        meter(
            "A", Resource.COLD_WATER, installed_on=date(2025, 7, 5), removed_on=date(2025, 7, 10)
        ),
        meter("B", Resource.COLD_WATER, installed_on=date(2025, 7, 12)),
    ]
    readings = [
        reading("A", date(2025, 7, 5), "0", kind=ReadingKind.INITIAL),
        reading("A", date(2025, 7, 10), "1", kind=ReadingKind.FINAL),
        reading("B", date(2025, 7, 12), "0", kind=ReadingKind.INITIAL),
        reading("B", JULY_25, "2"),
    ]
    rating = rated(account("cold_water"), [COLD], meters, readings)
    assert rating.issues == ()
    # 1–4 July: no meter yet, by norm like a premise without one (2.5); 10–11 July: A's
    # average, without history the norm (2.3, 2.4)
    assert quantities(rating) == [d("3"), d("0.000"), d("0.000")]
    assert [line.span.start for line in rating.lines[1:]] == [date(2025, 7, 10), date(2025, 7, 1)]


def test_a_meter_removed_before_the_period_means_no_meter() -> None:
    gone = meter("C", Resource.COLD_WATER, removed_on=date(2025, 6, 1))
    rating = rated(account("cold_water", registrations=persons(1)), [COLD], [gone])
    assert [line.explanation.rule for line in rating.lines] == [Rule.NORM_PER_PERSON]


def test_house_meters_do_not_bill_the_premise() -> None:
    from kvit.core.codes import MeterKind

    house = meter("H", Resource.COLD_WATER, kind=MeterKind.COMMON_HOUSE)
    rating = rated(account("cold_water", registrations=persons(1)), [COLD], [house])
    assert [line.explanation.rule for line in rating.lines] == [Rule.NORM_PER_PERSON]


# --- what the engine does not do yet ---------------------------------------------------------


def test_unknown_service_and_a_method_without_a_rule_are_issues(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kvit.core import rating as rating_module

    monkeypatch.delitem(rating_module._RULES, Method.FIXED)
    rating = rated(account("intercom", "nowhere", "maintenance"), [INTERCOM, MAINTENANCE])
    assert [(i.code, i.service, i.values.get("method")) for i in rating.issues] == [
        ("unknown_service", "nowhere", None),
        ("method_not_supported", "intercom", "fixed"),
    ]
    assert rating.issues[0].message("en") == (
        "account 1002003, service nowhere: the connected service is not in the service "
        "catalogue; it is not charged"
    )
    assert amounts(rating) == [d("1813.62")]


def test_heating_by_area_with_a_building_but_no_house_meter_uses_the_norm() -> None:
    heating = Service(
        "heating",
        "",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        tariffs=(flat("3095"),),
        norms=(norm("0.02", NormKind.PER_AREA),),
    )
    building = Building(d("4250.60"), d("612.40"))
    assert quantities(rated(account("heating", building=building), [heating])) == [d("1.086000")]


def test_the_account_number_and_period_are_on_every_line() -> None:
    rating = rated(account("maintenance", "intercom"), [MAINTENANCE, INTERCOM])
    assert {(line.account, line.period) for line in rating.lines} == {(ACCOUNT, JULY)}
    assert isinstance(rating.total, Decimal)
