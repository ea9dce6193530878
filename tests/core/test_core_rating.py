"""kvit.core.rating: the spec's worked examples 1, 2, 3, 4, 5, 6, 8, 12 and 14 as engine
inputs, checked line by line (amounts and quantities as Decimal). No database."""

from __future__ import annotations

import gc
from datetime import date
from decimal import Decimal

import pytest
from test_core_rating_builders import (
    ACCOUNT,
    JULY,
    PROVIDER,
    account,
    amounts,
    area_service,
    codes,
    d,
    flat,
    inputs,
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

from kvit.core.codes import LineKind, Method, ReadingKind, Resource, Rule, Unit, Zone
from kvit.core.dating import DateRange
from kvit.core.inputs import Meter, PeriodInputs, Reading
from kvit.core.issues import Severity
from kvit.core.rating import rate, rate_all

JUNE_25 = date(2025, 6, 25)
JULY_25 = date(2025, 7, 25)
COLD = metered_service(Resource.COLD_WATER, flat("48.95"), name="Холодная вода")


# --- example 1: metered cold water ---------------------------------------------------------


def test_example_1_metered_cold_water() -> None:
    rating = rated(
        account("cold_water"),
        [COLD],
        [meter("CW-1", Resource.COLD_WATER)],
        [reading("CW-1", JUNE_25, "345.120"), reading("CW-1", JULY_25, "352.870")],
    )
    assert rating.issues == ()
    (line,) = rating.lines
    assert (line.quantity, line.tariff, line.amount) == (d("7.750"), d("48.95"), d("379.36"))
    assert (line.account, line.provider, line.service, line.period) == (
        ACCOUNT,
        PROVIDER,
        "cold_water",
        JULY,
    )
    assert (line.kind, line.unit, line.zone, line.tier) == (LineKind.CHARGE, Unit.M3, "", 0)
    assert line.span == JULY.span
    (source,) = line.explanation.sources
    assert line.explanation.rule is Rule.METERED
    assert (source.start.value, source.end.value, source.volume) == (
        d("345.120"),
        d("352.870"),
        d("7.750"),
    )
    assert rating.total == d("379.36")


# --- example 2: rollover and its limit -----------------------------------------------------

ELECTRICITY = metered_service(Resource.ELECTRICITY, flat("6.43"))
FIVE_DIGITS = meter("E-5", Resource.ELECTRICITY, integer_digits=5, fraction_digits=0)


def test_example_2_rollover_is_accepted_within_the_limit() -> None:
    rating = rated(
        account("electricity"),
        [ELECTRICITY],
        [FIVE_DIGITS],
        [reading("E-5", JUNE_25, "99850"), reading("E-5", JULY_25, "120")],
    )
    assert rating.issues == ()
    (line,) = rating.lines
    assert (line.quantity, line.amount) == (d("270"), d("1736.10"))
    assert line.explanation.sources[0].rollovers == 1


def test_example_2_counter_case_reading_decreased_and_the_rest_is_computed() -> None:
    maintenance = area_service("maintenance", flat("33.40"))
    rating = rated(
        account("electricity", "maintenance"),
        [ELECTRICITY, maintenance],
        [FIVE_DIGITS],
        [reading("E-5", JUNE_25, "60000"), reading("E-5", JULY_25, "120")],
    )
    (decreased,) = rating.issues
    assert decreased.code == "reading_decreased"
    assert decreased.severity is Severity.ERROR
    assert (decreased.account, decreased.meter, decreased.service) == (
        ACCOUNT,
        "E-5",
        "electricity",
    )
    assert decreased.values["previous"] == d("60000")
    assert decreased.values["value"] == d("120")
    assert decreased.values["candidate"] == d("40120")
    assert decreased.values["limit"] == d("10000.0")
    assert decreased.message("en") == (
        "account 1002003, meter E-5, service electricity: zone total: reading 120 of "
        "25.07.2025 is below the previous 60000; as a rollover it would be 40120, above the "
        "limit 10000.0; the reading is rejected and must be checked by an operator"
    )
    assert decreased.message("ru").startswith(
        "лицевой счёт 1002003, счётчик E-5, услуга electricity: зона total: показание 120 от "
        "25.07.2025 меньше предыдущего 60000"
    )
    # without a valid reading electricity is estimated (2.4): no history and no norm rows,
    # so its norm line is 0 for nobody registered; maintenance is still charged
    assert [line.explanation.rule for line in rating.lines] == [
        Rule.NORM_PER_PERSON,
        Rule.PER_AREA,
    ]
    assert rating.lines[0].explanation.values["fallback"] == "history"
    assert amounts(rating) == [d("0.00"), d("1813.62")]


def test_a_later_valid_reading_of_the_period_is_used_after_a_rejected_one() -> None:
    rating = rated(
        account("electricity"),
        [ELECTRICITY],
        [FIVE_DIGITS],
        [
            reading("E-5", JUNE_25, "60000"),
            reading("E-5", date(2025, 7, 10), "120"),
            reading("E-5", date(2025, 7, 20), "60100"),
        ],
    )
    assert codes(rating) == ["reading_decreased"]
    assert quantities(rating) == [d("100")]


# --- example 3: meter replacement mid-month -------------------------------------------------

HOT = metered_service(Resource.HOT_WATER, flat("245.67"))


def replacement(installed_on: date) -> tuple[list[Meter], list[Reading]]:
    meters = [
        meter("HW-old", Resource.HOT_WATER, removed_on=date(2025, 7, 14)),
        meter("HW-new", Resource.HOT_WATER, installed_on=installed_on),
    ]
    readings = [
        reading("HW-old", JUNE_25, "3456.120"),
        reading("HW-old", date(2025, 7, 14), "3459.870", kind=ReadingKind.FINAL),
        reading("HW-new", installed_on, "0.015", kind=ReadingKind.INITIAL),
        reading("HW-new", JULY_25, "4.215"),
    ]
    return meters, readings


def test_example_3_replacement_adds_both_meters_into_one_line() -> None:
    meters, readings = replacement(date(2025, 7, 14))
    rating = rated(account("hot_water"), [HOT], meters, readings)
    assert rating.issues == ()
    (line,) = rating.lines
    assert (line.quantity, line.amount) == (d("7.950"), d("1953.08"))
    old, new = line.explanation.sources
    assert (old.meter, old.volume) == ("HW-old", d("3.750"))
    assert (new.meter, new.volume) == ("HW-new", d("4.200"))


def test_replacement_with_gap_days_charges_the_metered_part_and_estimates_the_gap() -> None:
    meters, readings = replacement(date(2025, 7, 18))
    rating = rated(account("hot_water"), [HOT], meters, readings)
    assert rating.issues == ()
    # the gap (14–17 July) has no history to average here, so it goes to the norm (2.4):
    # HOT has no norm rows and nobody is registered, so its norm volume is 0
    assert quantities(rating) == [d("7.950"), d("0.000")]
    gap = rating.lines[1]
    assert (gap.span, gap.explanation.reason) == (
        DateRange(date(2025, 7, 14), date(2025, 7, 18)),
        "replacement_gap",
    )


# --- examples 4 and 5: tiered blocks --------------------------------------------------------

RANGES = metered_service(
    Resource.ELECTRICITY,
    tiered(("3900", "4.93"), ("6000", "8.27"), (None, "9.47")),
    method=Method.TIERED,
)


def tiered_rating(volume: str) -> list[tuple[Decimal, Decimal, int]]:
    rating = rated(
        account("electricity"),
        [RANGES],
        [meter("E-1", Resource.ELECTRICITY, integer_digits=6)],
        [reading("E-1", JUNE_25, "1000"), reading("E-1", JULY_25, str(1000 + int(volume)))],
    )
    assert rating.issues == ()
    assert all(line.explanation.rule is Rule.TIER for line in rating.lines)
    return [(line.quantity, line.amount, line.tier) for line in rating.lines]


def test_example_4_case_a() -> None:
    assert tiered_rating("4350") == [(d("3900"), d("19227.00"), 1), (d("450"), d("3721.50"), 2)]


def test_example_4_case_b() -> None:
    assert tiered_rating("6500") == [
        (d("3900"), d("19227.00"), 1),
        (d("2100"), d("17367.00"), 2),
        (d("500"), d("4735.00"), 3),
    ]


def test_example_5_social_norm_in_uzs() -> None:
    social = metered_service(
        Resource.ELECTRICITY,
        tiered(("200", "450"), ("1000", "900"), (None, "1350")),
        method=Method.TIERED,
    )
    rating = rated(
        account("electricity"),
        [social],
        [meter("E-1", Resource.ELECTRICITY)],
        [reading("E-1", JUNE_25, "5000"), reading("E-1", JULY_25, "6150")],
    )
    assert [(line.quantity, line.amount) for line in rating.lines] == [
        (d("200"), d("90000.00")),
        (d("800"), d("720000.00")),
        (d("150"), d("202500.00")),
    ]
    assert rating.total == d("1012500.00")


# --- example 6: day/night ------------------------------------------------------------------


def test_example_6_day_night() -> None:
    service = metered_service(
        Resource.ELECTRICITY, zoned(day="4.93", night="2.96"), method=Method.TIME_OF_USE
    )
    rating = rated(
        account("electricity"),
        [service],
        [meter("E-2", Resource.ELECTRICITY, zones=(Zone.DAY, Zone.NIGHT))],
        [
            reading("E-2", JUNE_25, "10250", Zone.DAY),
            reading("E-2", JUNE_25, "4105", Zone.NIGHT),
            reading("E-2", JULY_25, "10462", Zone.DAY),
            reading("E-2", JULY_25, "4203", Zone.NIGHT),
        ],
    )
    assert rating.issues == ()
    assert [(line.zone, line.quantity, line.amount) for line in rating.lines] == [
        ("day", d("212"), d("1045.16")),
        ("night", d("98"), d("290.08")),
    ]
    assert rating.total == d("1335.24")


# --- example 8: no meter although possible ---------------------------------------------------

COLD_BY_NORM = metered_service(
    Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),), increase_coefficient_applies=True
)


def test_example_8_norm_times_one_and_a_half_as_two_lines() -> None:
    rating = rated(account("cold_water", registrations=persons(3)), [COLD_BY_NORM])
    assert rating.issues == ()
    base, surcharge = rating.lines
    assert (base.quantity, base.amount, base.explanation.rule) == (
        d("14.235"),
        d("696.80"),
        Rule.NORM_PER_PERSON,
    )
    assert (surcharge.quantity, surcharge.amount, surcharge.explanation.rule) == (
        d("14.235"),
        d("348.40"),
        Rule.NORM_COEFFICIENT,
    )
    assert surcharge.explanation.values["coefficient"] == d("1.5")
    assert rating.total == d("1045.20")


def test_example_8_counter_case_meter_technically_impossible() -> None:
    acc = account(
        "cold_water", registrations=persons(3), meter_impossible=frozenset({Resource.COLD_WATER})
    )
    rating = rated(acc, [COLD_BY_NORM])
    assert amounts(rating) == [d("696.80")]


def test_no_coefficient_where_the_service_does_not_take_it() -> None:
    gas = metered_service(Resource.GAS, flat("8.00"), norms=(norm("10.5"),))
    assert amounts(rated(account("gas", registrations=persons(2)), [gas])) == [d("168.00")]


# --- example 12: per m² --------------------------------------------------------------------


def test_example_12_maintenance_and_capital_repair_half_up() -> None:
    rating = rated(
        account("maintenance", "capital_repair"),
        [area_service("maintenance", flat("33.40")), area_service("capital_repair", flat("12.15"))],
    )
    assert amounts(rating, "maintenance") == [d("1813.62")]
    assert amounts(rating, "capital_repair") == [d("659.75")]
    assert quantities(rating) == [d("54.30"), d("54.30")]
    assert all(line.explanation.rule is Rule.PER_AREA for line in rating.lines)


# --- example 14: tariff change mid-month ----------------------------------------------------

CHANGE = date(2025, 7, 16)


def test_example_14_per_area_segments() -> None:
    maintenance = area_service(
        "maintenance", flat("33.40", end=CHANGE), flat("36.10", start=CHANGE)
    )
    rating = rated(account("maintenance"), [maintenance])
    assert amounts(rating) == [d("877.56"), d("1011.73")]
    assert rating.total == d("1889.29")
    first, second = rating.lines
    assert (first.span.start, first.span.end) == (date(2025, 7, 1), CHANGE)
    assert first.explanation.values == {"area": d("54.30"), "days": 15, "period_days": 31}
    assert second.explanation.values["days"] == 16


def cold_with_change(*extra: tuple[date, str]) -> list[tuple[Decimal, Decimal]]:
    service = metered_service(
        Resource.COLD_WATER, flat("48.95", end=CHANGE), flat("52.10", start=CHANGE)
    )
    readings = [reading("CW-1", JUNE_25, "100.000"), reading("CW-1", JULY_25, "107.950")]
    readings += [reading("CW-1", day, value) for day, value in extra]
    rating = rated(account("cold_water"), [service], [meter("CW-1", Resource.COLD_WATER)], readings)
    assert rating.issues == ()
    return [(line.quantity, line.amount) for line in rating.lines]


def test_example_14_metered_split_by_days_with_the_remainder() -> None:
    assert cold_with_change() == [(d("3.847"), d("188.31")), (d("4.103"), d("213.77"))]


def test_example_14_metered_split_by_a_reading_on_the_change_date() -> None:
    assert cold_with_change((CHANGE, "103.000")) == [
        (d("3.000"), d("146.85")),
        (d("4.950"), d("257.90")),
    ]


class TestRateAll:
    """`rate_all`: a chunk rated with one book, the collector paused only for the loop."""

    def chunk(self) -> list[PeriodInputs]:
        service = area_service("maintenance", flat("32.15"))
        return [inputs(account("maintenance", area=area), [service]) for area in ("54.30", "40.00")]

    def test_gives_what_rate_gives_for_each_account_in_order(self) -> None:
        batch = self.chunk()
        assert rate_all(batch) == [rate(one) for one in batch]
        assert [rating.total for rating in rate_all(batch)] == [d("1745.75"), d("1286.00")]

    @pytest.mark.parametrize("enabled", [True, False])
    def test_leaves_the_collector_as_it_found_it(self, enabled: bool) -> None:
        was = gc.isenabled()
        (gc.enable if enabled else gc.disable)()
        try:
            rate_all(self.chunk())
            assert gc.isenabled() is enabled
        finally:
            (gc.enable if was else gc.disable)()
