"""kvit.core.explain: every charge line told as one sentence, in Russian and English.
No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from test_core_rating_builders import (
    account,
    area_service,
    d,
    flat,
    meter,
    metered_service,
    norm,
    persons,
    rated,
    reading,
    tiered,
    zoned,
)

from kvit.core.codes import Method, NormKind, ReadingKind, Resource, Unit, Zone
from kvit.core.explain import NBSP, number, render, trim
from kvit.core.inputs import Registration, Service

JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)


def sentences(rating: object) -> list[tuple[str, str]]:
    lines = rating.lines  # type: ignore[attr-defined]
    return [(render(line), render(line, "en")) for line in lines]


def test_example_1_in_both_languages() -> None:
    cold = metered_service(Resource.COLD_WATER, flat("48.950000"), name="Холодная вода")
    rating = rated(
        account("cold_water"),
        [cold],
        [meter("CW-1", Resource.COLD_WATER)],
        [reading("CW-1", JUNE_25, "345.120000"), reading("CW-1", JULY_25, "352.870000")],
    )
    assert sentences(rating) == [
        (
            "Холодная вода: 352,870 − 345,120 = 7,750 м³ × 48,95 ₽ = 379,36 ₽ "
            "(показание от 25.07.2025)",
            "Cold water: 352.870 − 345.120 = 7.750 m³ × 48.95 RUB = 379.36 RUB "
            "(reading of 25.07.2025)",
        )
    ]


def test_numbers_as_each_language_writes_them() -> None:
    assert number(Decimal("1736.1"), "ru", 2) == f"1{NBSP}736,10"
    assert number(Decimal("1736.1"), "en", 2) == "1,736.10"
    assert number(Decimal("-5.5"), "ru", 2) == "−5,50"
    assert number(Decimal("3900.000"), "en") == "3,900"
    assert number(Decimal("4.745000"), "ru") == "4,745"
    assert trim(Decimal("1.113150"), 6) == Decimal("1.113150")
    assert trim(Decimal("7.75"), 3) == Decimal("7.750")


def test_rollover_and_transformer_ratio() -> None:
    electricity = metered_service(Resource.ELECTRICITY, flat("6.43"))
    rollover = rated(
        account("electricity"),
        [electricity],
        [meter("E", Resource.ELECTRICITY, integer_digits=5, fraction_digits=0)],
        [reading("E", JUNE_25, "99850"), reading("E", JULY_25, "120")],
    )
    assert sentences(rollover)[0][0] == (
        f"Электроэнергия: 100{NBSP}000 − 99{NBSP}850 + 120 = 270,000 кВт·ч × 6,43 ₽ = "
        f"1{NBSP}736,10 ₽ (показание от 25.07.2025)"
    )
    ratio = rated(
        account("electricity"),
        [electricity],
        [meter("E", Resource.ELECTRICITY, fraction_digits=1, transform_ratio=d("40.000"))],
        [reading("E", JUNE_25, "1234.5"), reading("E", JULY_25, "1300.0")],
    )
    assert sentences(ratio)[0][1] == (
        "Electricity: (1,300.0 − 1,234.5) × 40 = 2,620.000 kWh × 6.43 RUB = 16,846.60 RUB "
        "(reading of 25.07.2025)"
    )


def test_two_rollovers_are_counted() -> None:
    electricity = metered_service(Resource.ELECTRICITY, flat("1"))
    rating = rated(
        account("electricity"),
        [electricity],
        [meter("E", Resource.ELECTRICITY, integer_digits=2, fraction_digits=0)],
        [
            reading("E", JUNE_25, "95"),
            reading("E", date(2025, 7, 5), "2"),
            reading("E", date(2025, 7, 10), "99"),
            reading("E", date(2025, 7, 15), "3"),
        ],
        config=_config(rollover_max_fraction="1"),
    )
    assert sentences(rating)[0][1] == (
        "Electricity: 3 − 95 + 2 × 100 = 108.000 kWh × 1.00 RUB = 108.00 RUB "
        "(reading of 15.07.2025)"
    )


def _config(**overrides: str) -> object:
    from kvit.core.config import config_on

    return config_on(date(2025, 7, 1), overrides)


def test_replacement_and_zones() -> None:
    hot = metered_service(Resource.HOT_WATER, flat("245.67"))
    rating = rated(
        account("hot_water"),
        [hot],
        [
            meter("old", Resource.HOT_WATER, removed_on=date(2025, 7, 14)),
            meter("new", Resource.HOT_WATER, installed_on=date(2025, 7, 14)),
        ],
        [
            reading("old", JUNE_25, "3456.120"),
            reading("old", date(2025, 7, 14), "3459.870", kind=ReadingKind.FINAL),
            reading("new", date(2025, 7, 14), "0.015", kind=ReadingKind.INITIAL),
            reading("new", JULY_25, "4.215"),
        ],
    )
    assert sentences(rating)[0][1] == (
        "Hot water: (3,459.870 − 3,456.120) + (4.215 − 0.015) = 7.950 m³ × 245.67 RUB = "
        "1,953.08 RUB (readings of 14.07.2025, 25.07.2025)"
    )
    day_night = metered_service(
        Resource.ELECTRICITY, zoned(day="4.93", night="2.96"), method=Method.TIME_OF_USE
    )
    zones = rated(
        account("electricity"),
        [day_night],
        [meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT), fraction_digits=0)],
        [
            reading("E", JUNE_25, "10250", Zone.DAY),
            reading("E", JULY_25, "10462", Zone.DAY),
            reading("E", JUNE_25, "4105", Zone.NIGHT),
            reading("E", JULY_25, "4203", Zone.NIGHT),
        ],
    )
    (day_ru, _), (_, night_en) = sentences(zones)
    assert day_ru.startswith(f"Электроэнергия, день: 10{NBSP}462 − 10{NBSP}250 = 212,000 кВт·ч")
    assert night_en == (
        "Electricity, night: 4,203 − 4,105 = 98.000 kWh × 2.96 RUB = 290.08 RUB "
        "(reading of 25.07.2025)"
    )


def test_tariff_change_split_by_days_and_by_a_split_over_several_meters() -> None:
    change = date(2025, 7, 16)
    cold = metered_service(
        Resource.COLD_WATER, flat("48.95", end=change), flat("52.10", start=change)
    )
    rating = rated(
        account("cold_water"),
        [cold],
        [meter("C", Resource.COLD_WATER)],
        [reading("C", JUNE_25, "100.000"), reading("C", JULY_25, "107.950")],
    )
    (first_ru, _), (_, second_en) = sentences(rating)
    assert first_ru == (
        "Холодная вода: 107,950 − 100,000 = 7,950 м³; 7,950 × 15/31 = 3,847 м³ × 48,95 ₽ = "
        "188,31 ₽ (показание от 25.07.2025; за 01.07.2025–15.07.2025)"
    )
    assert second_en == (
        "Cold water: 107.950 − 100.000 = 7.950 m³; 7.950 − 3.847 = 4.103 m³ × 52.10 RUB = "
        "213.77 RUB (reading of 25.07.2025; for 16.07.2025–31.07.2025)"
    )
    replaced = rated(
        account("cold_water"),
        [cold],
        [
            meter("old", Resource.COLD_WATER, removed_on=date(2025, 7, 11)),
            meter("new", Resource.COLD_WATER, installed_on=date(2025, 7, 11)),
        ],
        [
            reading("old", JUNE_25, "10.000"),
            reading("old", date(2025, 7, 11), "13.000", kind=ReadingKind.FINAL),
            reading("new", date(2025, 7, 11), "0.000", kind=ReadingKind.INITIAL),
            reading("new", JULY_25, "4.200"),
        ],
    )
    assert sentences(replaced)[0][1] == (
        "Cold water: (13.000 − 10.000) + (4.200 − 0.000) = 7.200 m³; share for the period "
        "= 4.000 m³ × 48.95 RUB = 195.80 RUB (readings of 11.07.2025, 25.07.2025; "
        "for 01.07.2025–15.07.2025)"
    )


def test_tiers() -> None:
    ranges = metered_service(
        Resource.ELECTRICITY,
        tiered(("3900", "4.93"), ("6000", "8.27"), (None, "9.47")),
        method=Method.TIERED,
    )
    rating = rated(
        account("electricity"),
        [ranges],
        [meter("E", Resource.ELECTRICITY, integer_digits=6, fraction_digits=0)],
        [reading("E", JUNE_25, "1000"), reading("E", JULY_25, "7500")],
    )
    first, second, third = sentences(rating)
    assert first[0] == (
        f"Электроэнергия, ступень 1 (0–3{NBSP}900 кВт·ч): 3{NBSP}900,000 из 6{NBSP}500,000 "
        f"кВт·ч × 4,93 ₽ = 19{NBSP}227,00 ₽ (показание от 25.07.2025)"
    )
    assert second[1] == (
        "Electricity, tier 2 (3,900–6,000 kWh): 2,100.000 of 6,500.000 kWh × 8.27 RUB = "
        "17,367.00 RUB (reading of 25.07.2025)"
    )
    assert third[1].startswith("Electricity, tier 3 (above 6,000 kWh): 500.000 of 6,500.000")


def test_the_coefficient_over_tiers() -> None:
    social = metered_service(
        Resource.ELECTRICITY,
        tiered(("200", "450"), (None, "1350")),
        norms=(norm("110"),),
        method=Method.TIERED,
        increase_coefficient_applies=True,
        name="Электроэнергия",
    )
    rating = rated(account("electricity", registrations=persons(3)), [social])
    assert sentences(rating)[2] == (
        f"Электроэнергия, повышающий коэффициент: (200,000 кВт·ч × 450,00 ₽ + 130,000 кВт·ч × "
        f"1{NBSP}350,00 ₽) × (1,5 − 1) = 132{NBSP}750,00 ₽",
        "Electricity, increasing coefficient: (200.000 kWh × 450.00 RUB + 130.000 kWh × "
        "1,350.00 RUB) × (1.5 − 1) = 132,750.00 RUB",
    )
    within = rated(account("electricity", registrations=persons(1)), [social])
    assert sentences(within)[1] == (
        "Электроэнергия, повышающий коэффициент: 110,000 кВт·ч × 450,00 ₽ × (1,5 − 1) = "
        f"24{NBSP}750,00 ₽",
        "Electricity, increasing coefficient: 110.000 kWh × 450.00 RUB × (1.5 − 1) = 24,750.00 RUB",
    )


def test_norms_and_the_coefficient() -> None:
    cold = metered_service(
        Resource.COLD_WATER,
        flat("48.95"),
        norms=(norm("4.745"),),
        increase_coefficient_applies=True,
        name="Холодное водоснабжение",
    )
    rating = rated(account("cold_water", registrations=persons(3)), [cold])
    assert sentences(rating) == [
        (
            "Холодное водоснабжение: 4,745 м³ × 3 чел. = 14,235 м³ × 48,95 ₽ = 696,80 ₽",
            "Cold water: 4.745 m³ × 3 persons = 14.235 m³ × 48.95 RUB = 696.80 RUB",
        ),
        (
            "Холодное водоснабжение, повышающий коэффициент: 14,235 м³ × 48,95 ₽ × (1,5 − 1) "
            "= 348,40 ₽",
            "Cold water, increasing coefficient: 14.235 m³ × 48.95 RUB × (1.5 − 1) = 348.40 RUB",
        ),
    ]


def test_person_days_owners_and_varying_norms() -> None:
    waste = Service(
        "solid_waste",
        "",
        Unit.M3,
        Method.NORM_PER_PERSON,
        tariffs=(flat("1052"),),
        norms=(norm("0.1"),),
    )
    moved_in = (*persons(2), Registration("x", date(2025, 7, 17)))
    assert sentences(rated(account("solid_waste", registrations=moved_in), [waste]))[0] == (
        f"Обращение с ТКО: 0,1 м³ × 77 чел.-дн. / 31 = 0,248 м³ × 1{NBSP}052,00 ₽ = 260,90 ₽",
        "Solid waste: 0.1 m³ × 77 person-days / 31 = 0.248 m³ × 1,052.00 RUB = 260.90 RUB",
    )
    owners = sentences(rated(account("solid_waste", owners=2), [waste]))[0]
    assert owners[1].endswith("(by the number of owners)")
    assert owners[0].endswith("(по числу собственников)")
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(norm("100", persons=1), norm("70", persons=2)),
    )
    varying = (Registration("a", date(2020, 1, 1)), Registration("b", date(2025, 7, 17)))
    text = sentences(rated(account("electricity", registrations=varying), [electricity]))[0][1]
    assert text.startswith("Electricity: norm by household size, 46 person-days / 31 = ")


def test_area_rules() -> None:
    maintenance = area_service(
        "maintenance", flat("33.40", end=date(2025, 7, 16)), flat("36.10", start=date(2025, 7, 16))
    )
    rating = rated(account("maintenance", share=Fraction(1, 2)), [maintenance])
    assert sentences(rating)[0] == (
        "Содержание жилого помещения: 54,30 м² × 1/2 × 33,40 ₽ × 15/31 = 438,78 ₽ "
        "(за 01.07.2025–15.07.2025)",
        "Maintenance: 54.30 m² × 1/2 × 33.40 RUB × 15/31 = 438.78 RUB (for 01.07.2025–15.07.2025)",
    )
    heating = Service(
        "heating",
        "Отопление",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        tariffs=(flat("3095"),),
        norms=(norm("0.0205", NormKind.PER_AREA),),
    )
    assert sentences(rated(account("heating"), [heating]))[0] == (
        "Отопление: 0,0205 Гкал/м² × 54,30 м² = 1,113150 Гкал × 3095,00 ₽ = 3445,20 ₽".replace(
            "3095", f"3{NBSP}095"
        ).replace("3445", f"3{NBSP}445"),
        "Heating: 0.0205 Gcal/m² × 54.30 m² = 1.113150 Gcal × 3,095.00 RUB = 3,445.20 RUB",
    )


def test_fixed_sewerage_and_uzs() -> None:
    intercom = Service("intercom", "", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("55"),))
    opened = rated(account("intercom", opened_on=date(2025, 7, 10)), [intercom])
    assert sentences(opened)[0] == (
        "Домофон: 55,00 ₽ × 22/31 = 39,03 ₽ (за 10.07.2025–31.07.2025)",
        "Intercom: 55.00 RUB × 22/31 = 39.03 RUB (for 10.07.2025–31.07.2025)",
    )
    line = rated(account("intercom"), [intercom]).lines[0]
    assert render(line, "ru", "UZS") == "Домофон: 55,00 сум = 55,00 сум"
    assert render(line, "en", "UZS") == "Intercom: 55.00 UZS = 55.00 UZS"
    assert render(line, "de") == "Intercom: 55.00 RUB = 55.00 RUB"
    sewerage = Service(
        "sewerage",
        "",
        Unit.M3,
        Method.METERED,
        summed_resources=(Resource.COLD_WATER, Resource.HOT_WATER),
        tariffs=(flat("40"),),
    )
    cold = metered_service(Resource.COLD_WATER, flat("1"), norms=(norm("4.745"),))
    hot = metered_service(Resource.HOT_WATER, flat("1"), norms=(norm("3.5"),))
    rating = rated(
        account("sewerage", "cold_water", "hot_water", registrations=persons(1)),
        [sewerage, cold, hot],
    )
    assert sentences(rating)[-1][1] == (
        "Sewerage: 4.745 + 3.500 = 8.245 m³ × 40.00 RUB = 329.80 RUB"
    )


def test_unknown_codes_use_the_tenant_name_or_the_code() -> None:
    named = Service("guard", "Охрана", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("100"),))
    line = rated(account("guard"), [named]).lines[0]
    assert render(line, "en") == "Охрана: 100.00 RUB = 100.00 RUB"
    unnamed = Service("guard", "", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("100"),))
    line = rated(account("guard"), [unnamed]).lines[0]
    assert render(line) == "guard: 100,00 ₽ = 100,00 ₽"
