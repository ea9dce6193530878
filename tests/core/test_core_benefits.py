"""kvit.core benefits (2.16) and several providers on one account (2.17): area-based
services within the social norm of area, per-person services within the norm, every way a
base charge is computed, report mode, and the problems reported; hand-computed numbers.
No database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from test_core_rating_builders import (
    CONFIG,
    LONG_AGO,
    account,
    amounts,
    area_service,
    codes,
    d,
    flat,
    meter,
    metered_service,
    norm,
    persons,
    rated,
    reading,
    zoned,
)

from kvit.core.codes import CommonMeter, LineKind, Method, NormKind, Resource, Rule, Unit, Zone
from kvit.core.config import config_on
from kvit.core.dating import DateRange
from kvit.core.explain import render
from kvit.core.inputs import (
    Absence,
    BenefitGrant,
    Building,
    CommonHouseVolume,
    ConnectedService,
    Interruption,
    Registration,
    Service,
    SocialArea,
)
from kvit.core.lines import ChargeLine, Rating

JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)
MAINTENANCE = area_service("maintenance", flat("33.40"), name="Содержание жилого помещения")
COLD = metered_service(
    Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), name="Холодная вода"
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
SOI = Service(
    "soi_electricity",
    "",
    Unit.KWH,
    Method.COMMON_HOUSE_BY_AREA,
    resource=Resource.ELECTRICITY,
    tariffs=(flat("6.43"),),
    norms=(norm("0.73", NormKind.PER_COMMON_AREA),),
)
INTERCOM = Service("intercom", "", Unit.ACCOUNT, Method.FIXED, tariffs=(flat("55.00"),))


def grant(
    person: str = "p0",
    *services: str,
    category: str = "veteran",
    rate: str = "0.5",
    start: date = LONG_AGO,
    **extra: Any,
) -> BenefitGrant:
    return BenefitGrant(person, category, d(rate), services or ("maintenance",), start, **extra)


def relieved(
    catalogue: list[Service], *grants: BenefitGrant, people: int = 2, **extra: Any
) -> Rating:
    call = {key: extra.pop(key) for key in ("meters", "readings", "config") if key in extra}
    extra.setdefault("registrations", persons(people))
    acc = account(*(s.code for s in catalogue), benefits=grants, **extra)
    return rated(acc, catalogue, call.pop("meters", ()), call.pop("readings", ()), **call)


def benefits(rating: Rating) -> list[ChargeLine]:
    return [line for line in rating.lines if line.kind is LineKind.BENEFIT]


def one_benefit(rating: Rating) -> ChargeLine:
    (line,) = benefits(rating)
    return line


# --- area-based services -------------------------------------------------------------------------


def test_maintenance_within_the_social_norm_for_two() -> None:
    rating = relieved([MAINTENANCE], grant())
    assert rating.issues == ()
    charge, line = rating.lines
    assert charge.amount == d("1813.62")
    # min(54.30, 42) × 1/2 = 21.00 m²; 21 × 33.40 = 701.40; 50 % = 350.70
    assert (line.kind, line.explanation.rule) == (LineKind.BENEFIT, Rule.BENEFIT)
    assert (line.quantity, line.tariff, line.amount) == (d("21.00"), d("33.40"), d("-350.70"))
    assert (line.zone, line.tier, line.span, line.provider) == (
        "veteran",
        0,
        charge.span,
        charge.provider,
    )
    assert line.explanation.values == {
        "category": "veteran",
        "rate": d("0.5"),
        "area": d("54.30"),
        "persons": 2,
        "beneficiaries": 1,
        "social_area": d("42"),
        "base_area": d("21.00"),
        "base_charge": d("701.40"),
    }
    assert rating.total == d("1462.92")


def test_the_social_norm_for_one_three_and_five_persons() -> None:
    # one: min(54.30, 33) = 33 × 33.40 = 1102.20 → 551.10
    assert one_benefit(relieved([MAINTENANCE], grant(), people=1)).amount == d("-551.10")
    # three: 18 × 3 = 54 → 54 / 3 = 18.00 × 33.40 = 601.20 → 300.60
    assert one_benefit(relieved([MAINTENANCE], grant(), people=3)).amount == d("-300.60")
    # five: 90 > 54.30 → 54.30 / 5 = 10.86 × 33.40 = 362.724 → 362.72 → 181.36
    line = one_benefit(relieved([MAINTENANCE], grant(), people=5))
    assert (line.quantity, line.amount) == (d("10.86"), d("-181.36"))


def test_a_region_overrides_the_social_norm() -> None:
    regional = SocialArea(single=d("33"), couple=d("42"), per_person=d("21"))
    # three: 63 > 54.30 → 54.30 / 3 = 18.10 × 33.40 = 604.54 → 302.27
    line = one_benefit(relieved([MAINTENANCE], grant(social_area=regional), people=3))
    assert line.amount == d("-302.27")
    assert line.explanation.values["social_area"] == d("63")


def test_a_share_account_uses_its_share_of_the_area() -> None:
    line = one_benefit(relieved([MAINTENANCE], grant(), share=Fraction(1, 2)))
    # min(27.15, 42) × 1/2 = 13.575 m²; 13.575 × 33.40 = 453.405 → 453.41; 50 % = 226.705
    assert (line.quantity, line.amount) == (d("13.575000"), d("-226.71"))
    assert line.explanation.values["share"] == "1/2"


def test_persons_changing_mid_month_cut_the_base_into_pieces() -> None:
    registrations = (*persons(2), Registration("p9", date(2025, 7, 17)))
    line = one_benefit(relieved([MAINTENANCE], grant(), registrations=registrations))
    # 1..16 July, 2 persons: 21 m² × 33.40 × 16/31 = 362.0129 → 362.01;
    # 17..31 July, 3 persons: 18 m² × 33.40 × 15/31 = 290.9032 → 290.90;
    # base 652.91; 50 % = 326.455 → 326.46; the quantity is the day-weighted base area
    assert (line.quantity, line.amount) == (d("19.548387"), d("-326.46"))
    assert line.explanation.values["base_charge"] == d("652.91")
    assert "persons" not in line.explanation.values


def test_a_tariff_change_is_priced_like_the_charge() -> None:
    maintenance = area_service(
        "maintenance", flat("33.40", end=date(2025, 7, 16)), flat("36.10", start=date(2025, 7, 16))
    )
    line = one_benefit(relieved([maintenance], grant()))
    # 21 × 33.40 × 15/31 = 339.387 → 339.39; 21 × 36.10 × 16/31 = 391.277 → 391.28
    assert line.explanation.values["base_charge"] == d("730.67")
    assert (line.tariff, line.amount) == (d("0"), d("-365.34"))  # 365.335 → 365.34


def test_heating_by_norm() -> None:
    line = one_benefit(relieved([HEATING], grant("p0", "heating")))
    # round6(21 × 0.0205) = 0.430500 Gcal × 3095 = 1332.3975 → 1332.40; 50 % = 666.20
    assert (line.quantity, line.tariff, line.amount) == (d("0.430500"), d("3095.00"), d("-666.20"))


def test_heating_by_norm_in_the_season_only() -> None:
    season = Building(d("4250.60"), d("612.40"), heating_season=(DateRange(date(2025, 7, 20)),))
    line = one_benefit(relieved([HEATING], grant("p0", "heating"), building=season))
    # 20..31 July: round6(21 × 0.0205 × 12/31) = round6(0.16664516…) = 0.166645;
    # × 3095 = 515.766275 → 515.77; 50 % = 257.885 → 257.89
    assert (line.quantity, line.amount) == (d("0.166645"), d("-257.89"))
    off_season = Building(d("4250.60"), d("612.40"), heating_season=(DateRange(date(2025, 10, 1)),))
    assert relieved([HEATING], grant("p0", "heating"), building=off_season).lines == ()


def test_heating_by_a_house_meter() -> None:
    building = Building(
        d("4250.60"),
        d("612.40"),
        common_meters={Resource.HEAT: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.HEAT, d("120.5")),),
    )
    line = one_benefit(relieved([HEATING], grant("p0", "heating"), building=building))
    # round6(120.5 × 21 / 4250.60) = 0.595328 × 3095 = 1842.54; 50 % = 921.27
    assert (line.quantity, line.amount) == (d("0.595328"), d("-921.27"))
    assert line.explanation.values["base_charge"] == d("1842.54")


def test_common_house_needs() -> None:
    building = Building(
        d("4250.60"),
        d("612.40"),
        common_meters={Resource.ELECTRICITY: CommonMeter.PRESENT},
        volumes=(CommonHouseVolume(Resource.ELECTRICITY, d("12500"), d("10870"), d("830")),),
    )
    rating = relieved([SOI], grant("p0", "soi_electricity"), building=building)
    line = one_benefit(rating)
    # 21 m²: share round3(800 × 21 / 4250.60) = 3.952, cap round3(447.052 × 21 / 4250.60) =
    # 2.209; 2.209 × 6.43 = 14.20387 → 14.20; 50 % = 7.10
    assert (line.quantity, line.amount) == (d("2.209"), d("-7.10"))
    assert len(rating.carried) == 1


# --- per-person services -------------------------------------------------------------------------


def test_cold_water_by_norm() -> None:
    line = one_benefit(relieved([COLD], grant("p0", "cold_water"), people=3))
    # min(14.235 / 3, 4.745) × 1 = 4.745; 4.745 × 48.95 = 232.26775 → 232.27; 50 % = 116.135
    assert (line.quantity, line.tariff, line.amount) == (d("4.745"), d("48.95"), d("-116.14"))
    assert line.explanation.values == {
        "category": "veteran",
        "rate": d("0.5"),
        "volume": d("14.235"),
        "persons": 3,
        "beneficiaries": 1,
        "norm": d("4.745"),
        "base_volume": d("4.745"),
        "base_charge": d("232.27"),
    }


def metered_cold(value: str, *grants: BenefitGrant, **extra: Any) -> Rating:
    return relieved(
        [COLD],
        *grants,
        meters=[meter("C", Resource.COLD_WATER)],
        readings=[reading("C", JUNE_25, "100"), reading("C", JULY_25, value)],
        **extra,
    )


def test_metered_cold_water_within_the_norm() -> None:
    # V = 20: min(20 / 2, 4.745) = 4.745 → 232.27 → 116.14
    assert one_benefit(metered_cold("120", grant("p0", "cold_water"))).amount == d("-116.14")
    # V = 6: min(6 / 2, 4.745) = 3.000 × 48.95 = 146.85; 50 % = 73.425 → 73.43
    line = one_benefit(metered_cold("106", grant("p0", "cold_water")))
    assert (line.quantity, line.amount) == (d("3.000"), d("-73.43"))


def test_a_grant_starting_mid_month_counts_its_days() -> None:
    later = grant("p0", "cold_water", start=date(2025, 7, 17))
    line = one_benefit(metered_cold("106", later))
    # 62 person-days, 15 beneficiary-days: min(6 / 62, 4.745 / 31) × 15 = 1.451613 → 1.452;
    # 1.452 × 48.95 = 71.0754 → 71.08; 50 % = 35.54
    assert (line.quantity, line.amount) == (d("1.452"), d("-35.54"))
    values = line.explanation.values
    assert (values["person_days"], values["beneficiary_days"], values["period_days"]) == (
        62,
        15,
        31,
    )


def test_an_account_opened_mid_month_prorates_the_norm() -> None:
    line = one_benefit(
        relieved([COLD], grant("p0", "cold_water"), people=3, opened_on=date(2025, 7, 17))
    )
    # V = round3(4.745 × 45 / 31) = 6.888; min(6.888 / 45, 4.745 / 31) × 15 = 2.296;
    # 2.296 × 48.95 = 112.3892 → 112.39; 50 % = 56.195 → 56.20
    assert (line.quantity, line.amount) == (d("2.296"), d("-56.20"))
    assert (line.explanation.values["days"], line.explanation.values["period_days"]) == (15, 31)


def test_two_zones_share_the_base_volume() -> None:
    electricity = metered_service(
        Resource.ELECTRICITY, zoned(day="4.93", night="2.96"), norms=(norm("70"),)
    )
    readings = [
        reading("E", JUNE_25, "10250", Zone.DAY),
        reading("E", JULY_25, "10462", Zone.DAY),
        reading("E", JUNE_25, "4105", Zone.NIGHT),
        reading("E", JULY_25, "4203", Zone.NIGHT),
    ]
    rating = relieved(
        [electricity],
        grant("p0", "electricity"),
        meters=[meter("E", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
        readings=readings,
    )
    line = one_benefit(rating)
    # V = 212 + 98 = 310; min(155, 70) = 70.000; day round3(70 × 212/310) = 47.871 × 4.93 =
    # 236.00403 → 236.00; night 22.129 × 2.96 = 65.50184 → 65.50; base 301.50; 50 % = 150.75
    assert (line.quantity, line.tariff, line.amount) == (d("70.000"), d("0"), d("-150.75"))
    assert line.explanation.values["base_charge"] == d("301.50")


def test_the_volume_after_an_absence_recalculation() -> None:
    cold = metered_service(
        Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), absence_recalc_allowed=True
    )
    away = Absence("p1", date(2025, 7, 3), date(2025, 7, 19), filed_on=date(2025, 7, 20))
    rating = relieved(
        [cold],
        grant("p0", "cold_water"),
        people=3,
        absences=(away,),
        meter_impossible=frozenset({Resource.COLD_WATER}),
    )
    # V = 14.235 − round3(4.745 × 15/31) = 14.235 − 2.296 = 11.939;
    # min(11.939 / 3, 4.745) = round3(3.97966…) = 3.980 × 48.95 = 194.821 → 194.82; 50 % = 97.41
    assert amounts(rating) == [d("696.80"), d("-112.39"), d("-97.41")]


# --- groups, modes and problems ------------------------------------------------------------------


def test_categories_and_rates_make_separate_lines() -> None:
    rating = relieved(
        [MAINTENANCE],
        grant("p0"),
        grant("p1", category="large_family", rate="0.3"),
        grant("p2", rate="0.3"),
        people=3,
    )
    # each beneficiary: 54 / 3 = 18 m² → 601.20
    assert [(line.zone, line.tier, line.amount) for line in benefits(rating)] == [
        ("large_family", 0, d("-180.36")),
        ("veteran", 0, d("-180.36")),
        ("veteran", 1, d("-300.60")),
    ]
    assert len({line.key for line in rating.lines}) == len(rating.lines)


def test_two_beneficiaries_of_one_category_share_a_line() -> None:
    line = one_benefit(relieved([MAINTENANCE], grant("p0"), grant("p1"), people=3))
    # 54 × 2/3 = 36.00 m² × 33.40 = 1202.40; 50 % = 601.20
    assert (line.quantity, line.amount) == (d("36.00"), d("-601.20"))
    assert line.explanation.values["beneficiaries"] == 2


def test_compensation_report_mode_reports_instead_of_posting() -> None:
    config = config_on(date(2025, 7, 1), {"benefit_mode": "compensation_report"})
    rating = relieved([MAINTENANCE], grant(), config=config)
    assert amounts(rating) == [d("1813.62")]
    (reported,) = rating.reported
    assert (reported.kind, reported.amount) == (LineKind.BENEFIT, d("-350.70"))
    assert CONFIG.benefit_mode == "discount"


def test_who_does_not_count() -> None:
    assert benefits(relieved([MAINTENANCE], grant("stranger"))) == []
    nobody = relieved([MAINTENANCE], grant(), registrations=(), owners=2)
    assert (benefits(nobody), nobody.issues) == ([], ())
    past = grant(start=date(2020, 1, 1), effective_to=date(2025, 1, 1))
    assert benefits(relieved([MAINTENANCE], past)) == []
    other_service = grant("p0", "heating")
    assert benefits(relieved([MAINTENANCE], other_service)) == []
    nobody_cold = relieved([COLD], grant("p0", "cold_water"), registrations=(), owners=2)
    assert (benefits(nobody_cold), nobody_cold.issues) == ([], ())


def test_nothing_charged_nothing_relieved() -> None:
    untariffed = area_service("maintenance")
    rating = relieved([untariffed], grant())
    assert (benefits(rating), codes(rating)) == ([], ["no_tariff"])
    free = area_service("maintenance", flat("0"))
    assert benefits(relieved([free], grant())) == []
    unused = metered_cold("100", grant("p0", "cold_water"))
    assert benefits(unused) == []  # no volume this month


def test_a_rate_outside_zero_to_one_is_refused() -> None:
    rating = relieved([MAINTENANCE], grant(rate="50"))
    assert benefits(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values) == (
        "benefit_rate_invalid",
        {"category": "veteran", "person": "p0", "rate": d("50")},
    )
    assert "outside 0–1" in issue.message("en")
    assert benefits(relieved([MAINTENANCE], grant(rate="0"))) == []


def test_a_fixed_service_has_no_benefit_base() -> None:
    rating = relieved([INTERCOM], grant("p0", "intercom"))
    assert benefits(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values) == (
        "benefit_not_defined",
        {"category": "veteran", "method": "fixed"},
    )
    assert "per account" in issue.message("en")


def test_a_per_person_service_needs_its_norm() -> None:
    no_norm = metered_service(Resource.COLD_WATER, flat("48.95"))
    rating = relieved(
        [no_norm],
        grant("p0", "cold_water"),
        meters=[meter("C", Resource.COLD_WATER)],
        readings=[reading("C", JUNE_25, "100"), reading("C", JULY_25, "106")],
    )
    assert benefits(rating) == []
    (issue,) = rating.issues
    assert (issue.code, issue.values["day"], issue.values["persons"]) == (
        "benefit_no_norm",
        date(2025, 7, 1),
        2,
    )
    assert "no per-person norm" in issue.message("en")


# --- several providers (2.17) --------------------------------------------------------------------


def test_every_line_carries_the_provider_of_its_service() -> None:
    services = (
        ConnectedService("maintenance", "uk", LONG_AGO),
        ConnectedService("cold_water", "vodokanal", LONG_AGO),
    )
    interruption = Interruption(
        "cold_water", datetime(2025, 7, 10, 8), datetime(2025, 7, 11, 4, 30)
    )
    rating = relieved(
        [MAINTENANCE, COLD],
        grant("p0", "maintenance", "cold_water"),
        people=3,
        services=services,
        interruptions=(interruption,),
        meter_impossible=frozenset({Resource.COLD_WATER}),
    )
    assert [
        (line.provider, line.service, line.kind.value, line.amount) for line in rating.lines
    ] == [
        ("vodokanal", "cold_water", "charge", d("696.80")),
        ("uk", "maintenance", "charge", d("1813.62")),
        ("vodokanal", "cold_water", "quality_reduction", d("-12.54")),
        ("vodokanal", "cold_water", "benefit", d("-116.14")),
        ("uk", "maintenance", "benefit", d("-300.60")),
    ]
    by_provider: dict[str, Decimal] = {}
    for line in rating.lines:
        by_provider[line.provider] = by_provider.get(line.provider, d("0")) + line.amount
    assert by_provider == {"vodokanal": d("568.12"), "uk": d("1513.02")}


# --- explanations --------------------------------------------------------------------------------


def test_benefit_sentences_for_area_services() -> None:
    line = one_benefit(relieved([MAINTENANCE], grant()))
    assert render(line, "ru") == (
        "Содержание жилого помещения, льгота «veteran» 50 %: min(54,30 м², 42,00 м² на 2 чел.) × "
        "1/2 = 21,00 м² → 701,40 ₽ × 50 % = −350,70 ₽"
    )
    assert render(line, "en") == (
        "Maintenance, benefit “veteran” 50 %: min(54.30 m², 42.00 m² for 2 persons) × 1/2 = "
        "21.00 m² → 701.40 RUB × 50 % = -350.70 RUB"
    )
    heating = one_benefit(relieved([HEATING], grant("p0", "heating"), share=Fraction(1, 2)))
    assert render(heating, "en") == (
        "Heating, benefit “veteran” 50 %: min(54.30 m² × 1/2, 42.00 m² for 2 persons) × 1/2 = "
        "13.575 m² = 0.278288 Gcal → 861.30 RUB × 50 % = -430.65 RUB"
    )
    registrations = (*persons(2), Registration("p9", date(2025, 7, 17)))
    pieces = one_benefit(relieved([MAINTENANCE], grant(), registrations=registrations))
    assert render(pieces, "ru") == (
        "Содержание жилого помещения, льгота «veteran» 50 %: база → 652,91 ₽ × 50 % = −326,46 ₽"
    )


def test_benefit_sentences_for_per_person_services() -> None:
    line = one_benefit(relieved([COLD], grant("p0", "cold_water"), people=3))
    assert render(line, "ru") == (
        "Холодная вода, льгота «veteran» 50 %: min(14,235 м³ / 3 чел., 4,745 м³) × 1 = "
        "4,745 м³ → 232,27 ₽ × 50 % = −116,14 ₽"
    )
    later = one_benefit(metered_cold("106", grant("p0", "cold_water", start=date(2025, 7, 17))))
    assert render(later, "en") == (
        "Cold water, benefit “veteran” 50 %: min(6.000 m³ / 62 person-days, 4.745 m³ / 31) × "
        "15 benefit days = 1.452 m³ → 71.08 RUB × 50 % = -35.54 RUB"
    )
    opened = one_benefit(
        relieved([COLD], grant("p0", "cold_water"), people=3, opened_on=date(2025, 7, 17))
    )
    assert render(opened, "en").startswith(
        "Cold water, benefit “veteran” 50 %: min(6.888 m³ / 3 persons, 4.745 m³ × 15/31) × 1 "
    )
    electricity = metered_service(
        Resource.ELECTRICITY,
        flat("6.43"),
        norms=(norm("100", persons=1), norm("70", persons=2), norm("60", persons=3)),
    )
    registrations = (*persons(2), Registration("p9", date(2025, 7, 17)))
    varying = one_benefit(
        relieved([electricity], grant("p0", "electricity"), registrations=registrations)
    )
    assert "norm by household size / 31" in render(varying, "en")


# --- pieces that find no tariff, norm or season ---------------------------------------------


def test_area_pieces_without_a_tariff_or_outside_the_season() -> None:
    registrations = (*persons(2), Registration("p9", date(2025, 7, 17)))
    late = area_service("maintenance", flat("33.40", start=date(2025, 7, 17)))
    line = one_benefit(relieved([late], grant(), registrations=registrations))
    # only 17..31 July is charged: 18 m² × 33.40 × 15/31 = 290.90; 50 % = 145.45
    assert line.amount == d("-145.45")
    assert line.explanation.values["persons"] == 3
    changing = area_service(
        "maintenance", flat("33.40", end=date(2025, 7, 10)), flat("36.10", start=date(2025, 7, 10))
    )
    # 1..9: 21 × 33.40 × 9/31 = 203.632 → 203.63; 10..16: 21 × 36.10 × 7/31 = 171.183 →
    # 171.18; 17..31: 18 × 36.10 × 15/31 = 314.419 → 314.42; base 689.23 → 344.615 → 344.62
    line = one_benefit(relieved([changing], grant(), registrations=registrations))
    assert (line.explanation.values["base_charge"], line.amount) == (d("689.23"), d("-344.62"))
    season = Building(
        d("4250.60"),
        d("612.40"),
        heating_season=(
            DateRange(date(2025, 7, 1), date(2025, 7, 5)),
            DateRange(date(2025, 7, 20)),
        ),
    )
    heating = Service(
        "heating",
        "Отопление",
        Unit.GCAL,
        Method.HEATING_BY_AREA,
        resource=Resource.HEAT,
        tariffs=(
            flat("3095.00", start=date(2025, 7, 3), end=date(2025, 7, 10)),
            flat("3095.00", start=date(2025, 7, 10)),
        ),
        norms=(norm("0.0205", NormKind.PER_AREA, end=date(2025, 7, 25)),),
    )
    visit = (*persons(2), Registration("p9", date(2025, 7, 10), date(2025, 7, 15)))
    rating = relieved([heating], grant("p0", "heating"), registrations=visit, building=season)
    line = one_benefit(rating)
    # charged: 3..4 July and 20..24 July, 2 persons (21 m²); 10..14 July (3 persons) is out
    # of the season: round6(21 × 0.0205 × 2/31) = 0.027774 → 85.96;
    # round6(21 × 0.0205 × 5/31) = 0.069435 → 214.90; base 300.86; 50 % = 150.43
    assert (line.quantity, line.amount) == (d("0.097209"), d("-150.43"))
    assert sorted(codes(rating)) == ["no_norm", "no_tariff"]


def test_house_shares_over_pieces_and_tariff_segments() -> None:
    building = Building(
        d("4250.60"),
        d("612.40"),
        common_meters={Resource.ELECTRICITY: CommonMeter.PRESENT},
        volumes=(
            CommonHouseVolume(Resource.COLD_WATER, d("1")),
            CommonHouseVolume(Resource.ELECTRICITY, d("12500"), d("10870"), d("830")),
        ),
    )
    soi = Service(
        "soi_electricity",
        "",
        Unit.KWH,
        Method.COMMON_HOUSE_BY_AREA,
        resource=Resource.ELECTRICITY,
        tariffs=(flat("6.43", end=date(2025, 7, 10)), flat("7.00", start=date(2025, 7, 10))),
        norms=(norm("0.73", NormKind.PER_COMMON_AREA),),
    )
    moved = (*persons(2), Registration("p9", date(2025, 7, 20)))
    line = one_benefit(
        relieved([soi], grant("p0", "soi_electricity"), registrations=moved, building=building)
    )
    # 1..19 July, 21 m²: cap 2.209 × 19/31 = 1.354, split 9/19: 0.641 × 6.43 = 4.12,
    # 0.713 × 7.00 = 4.99; 20..31 July, 18 m²: cap round3(447.052 × 18 / 4250.60) = 1.893
    # × 12/31 = 0.733 × 7.00 = 5.13; base 14.24; 50 % = 7.12
    assert (line.quantity, line.amount) == (d("2.087"), d("-7.12"))


def test_per_person_pieces_outside_a_norm_segment() -> None:
    cold = metered_service(
        Resource.COLD_WATER,
        flat("48.95", end=date(2025, 7, 10)),
        flat("50.00", start=date(2025, 7, 10)),
        norms=(norm("4.745"),),
    )
    later = grant("p0", "cold_water", start=date(2025, 7, 17))
    rating = relieved(
        [cold],
        later,
        meters=[meter("C", Resource.COLD_WATER)],
        readings=[reading("C", JUNE_25, "100"), reading("C", JULY_25, "106")],
    )
    line = one_benefit(rating)
    # 1.452 m³ as before, split over the two charge lines in proportion to their volumes
    # (round3(6 × 9/31) = 1.742 and 4.258): round3(1.452 × 1.742 / 6) = 0.422 × 48.95 = 20.66;
    # 1.030 × 50.00 = 51.50; base 72.16; 50 % = 36.08
    assert (line.quantity, line.amount) == (d("1.452"), d("-36.08"))
