"""The rating building blocks on their own: tariff and norm lookups, blocks, reading
windows, splits. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from test_core_rating_builders import (
    LONG_AGO,
    account,
    area_service,
    d,
    flat,
    meter,
    metered_service,
    norm,
    persons,
    quantities,
    rated,
    reading,
)

from kvit.core.codes import Method, NormKind, ReadingKind, Resource, Unit, Zone
from kvit.core.consumption import (
    Cutoffs,
    cut_at,
    cutoff_date,
    registers,
    split_by_days,
    uncovered,
    window,
)
from kvit.core.dating import DateRange
from kvit.core.inputs import Reading, Service, Tier
from kvit.core.periods import Period
from kvit.core.rating import rate
from kvit.core.tariffs import TariffBook, blocks, norm_for, price, times

JULY = Period(2025, 7)


def test_price_is_exact_before_the_single_rounding() -> None:
    big = Decimal("123456789012.345678")
    tariff = Decimal("987654.123456")
    with localcontext() as exact:
        exact.prec = 60
        assert times(big, tariff) == big * tariff
    assert len(times(big, tariff).as_tuple().digits) == 30  # more than a default context keeps
    assert price(Decimal("54.30"), Decimal("12.15")) == Decimal("659.75")


def test_tariff_book_caches_per_service_group_and_period() -> None:
    service = metered_service(Resource.COLD_WATER, flat("1", end=date(2025, 7, 10)))
    book = TariffBook()
    first = book.tariffs(service, "", JULY)
    assert book.tariffs(service, "", JULY) is first
    assert [piece.version is None for piece in first] == [False, True]
    norms = book.norms(service, NormKind.PER_PERSON, JULY)
    assert book.norms(service, NormKind.PER_PERSON, JULY) is norms
    assert norms[0].rows == ()


def test_one_book_serves_many_accounts() -> None:
    cold = metered_service(Resource.COLD_WATER, flat("48.95"), norms=(norm("4.745"),))
    book = TariffBook()
    from test_core_rating_builders import inputs

    one = rate(inputs(account("cold_water", registrations=persons(1)), [cold]), book)
    two = rate(inputs(account("cold_water", registrations=persons(2)), [cold]), book)
    assert quantities(one) == [d("4.745")]
    assert quantities(two) == [d("9.490")]


def test_norm_for_picks_the_closest_row_from_below() -> None:
    rows = [
        norm("90", rooms=1, persons=1),
        norm("60", rooms=1, persons=3),
        norm("50", rooms=2),
    ]
    assert norm_for(rows, 1, 2).value == Decimal("90")  # type: ignore[union-attr]
    assert norm_for(rows, 1, 7).value == Decimal("60")  # type: ignore[union-attr]
    assert norm_for(rows, 5, 7).value == Decimal("50")  # type: ignore[union-attr]
    assert norm_for(rows, 0, 1) is None
    assert norm_for(rows, 1, 0) is None
    assert norm_for([], 1, 1) is None


def test_blocks_edge_cases() -> None:
    assert blocks(Decimal("10"), [], 31, 31, 3) == []
    twice = [
        Tier(Decimal("5"), Decimal("1")),
        Tier(Decimal("5"), Decimal("2")),
        Tier(None, Decimal("3")),
    ]
    assert [(b.index, b.quantity) for b in blocks(Decimal("10"), twice, 31, 31, 3)] == [
        (1, Decimal("5")),
        (3, Decimal("5")),
    ]
    closed = [Tier(Decimal("5"), Decimal("1")), Tier(Decimal("8"), Decimal("2"))]
    assert [(b.quantity, b.upper) for b in blocks(Decimal("10"), closed, 31, 31, 3)] == [
        (Decimal("5"), Decimal("5")),
        (Decimal("5"), None),  # the last tier is open whatever its bound
    ]


def test_cutoff_and_window() -> None:
    assert cutoff_date(Period(2025, 2), 30) == date(2025, 2, 28)
    cutoffs = Cutoffs.of(JULY, 25)
    assert cutoffs == Cutoffs(date(2025, 6, 25), date(2025, 7, 25), date(2025, 8, 1))
    span = window(cutoffs, LONG_AGO, None)
    assert (span.anchor_on, span.end_on, span.empty) == (
        date(2025, 6, 25),
        date(2025, 7, 25),
        False,
    )
    assert window(cutoffs, date(2025, 7, 14), date(2025, 8, 1)).end_on == date(2025, 8, 1)
    assert window(cutoffs, LONG_AGO, date(2025, 8, 2)).end_on == date(2025, 7, 25)
    assert window(cutoffs, date(2025, 7, 28), None).empty


def test_registers_walk_initial_first_and_final_last() -> None:
    day = date(2025, 7, 14)
    chain = [
        Reading("M", Zone.TOTAL, day, Decimal(3), ReadingKind.FINAL),
        Reading("M", Zone.TOTAL, day, Decimal(2), ReadingKind.ACTUAL),
        Reading("M", Zone.TOTAL, day, Decimal(1), ReadingKind.INITIAL),
        Reading("M", Zone.DAY, day, Decimal(1)),
    ]
    grouped = registers(chain)
    assert [r.value for r in grouped[("M", Zone.TOTAL)]] == [1, 2, 3]
    assert len(grouped[("M", Zone.DAY)]) == 1


def test_split_by_days_never_goes_negative() -> None:
    assert split_by_days(Decimal("0.0006"), [30, 1], 3) == [Decimal("0.0006"), Decimal("0.0000")]
    assert split_by_days(Decimal("7.950"), [15, 16], 3) == [Decimal("3.847"), Decimal("4.103")]
    assert split_by_days(Decimal("5"), [31], 3) == [Decimal("5")]


def test_uncovered_days() -> None:
    first, end = date(2025, 7, 1), date(2025, 8, 1)
    assert uncovered([DateRange(first, end)], first, end) == []
    spans = [DateRange(date(2025, 7, 20), end), DateRange(date(2025, 7, 3), date(2025, 7, 10))]
    assert uncovered(spans, first, end) == [
        DateRange(first, date(2025, 7, 3)),
        DateRange(date(2025, 7, 10), date(2025, 7, 20)),
    ]
    assert uncovered([DateRange(first, date(2025, 7, 30))], first, end) == [
        DateRange(date(2025, 7, 30), end)
    ]


def test_cut_at_a_reading_keeps_rollovers_on_the_right_side() -> None:
    meter_ = meter("E", Resource.ELECTRICITY, integer_digits=3, fraction_digits=0)
    rating = rated(
        account("electricity"),
        [metered_service(Resource.ELECTRICITY, flat("1"))],
        [meter_],
        [
            reading("E", date(2025, 6, 25), "990"),
            reading("E", date(2025, 7, 5), "995"),
            reading("E", date(2025, 7, 16), "10"),
            reading("E", date(2025, 7, 25), "20"),
        ],
    )
    (line,) = rating.lines
    (volume,) = line.explanation.sources
    assert (volume.volume, volume.rollovers) == (Decimal(30), 1)
    before, after = cut_at(volume, date(2025, 7, 16))  # type: ignore[misc]
    assert (before.volume, before.rollovers, after.volume, after.rollovers) == (
        Decimal(20),
        1,
        Decimal(10),
        0,
    )
    early, late = cut_at(volume, date(2025, 7, 5))  # type: ignore[misc]
    assert (early.volume, late.volume, late.rollovers) == (Decimal(5), Decimal(25), 1)
    assert cut_at(volume, date(2025, 7, 6)) is None


def test_norm_and_tariff_changes_on_different_days_cut_three_segments() -> None:
    waste = Service(
        "solid_waste",
        "",
        Unit.M3,
        Method.NORM_PER_PERSON,
        tariffs=(flat("100", end=date(2025, 7, 11)), flat("110", start=date(2025, 7, 11))),
        norms=(norm("0.31", end=date(2025, 7, 21)), norm("0.62", start=date(2025, 7, 21))),
    )
    cold = metered_service(Resource.COLD_WATER, flat("10"), norms=(norm("3.1"),))
    rating = rated(account("solid_waste", "cold_water", registrations=persons(1)), [waste, cold])
    assert quantities(rating, "solid_waste") == [d("0.100"), d("0.100"), d("0.220")]
    assert [line.tariff for line in rating.lines if line.service == "solid_waste"] == [
        d("100"),
        d("110"),
        d("110"),
    ]
    assert quantities(rating, "cold_water") == [d("3.100")]


def test_a_tariff_segment_before_the_account_opened_is_skipped() -> None:
    maintenance = area_service(
        "maintenance", flat("30", end=date(2025, 7, 16)), flat("31", start=date(2025, 7, 16))
    )
    rating = rated(account("maintenance", opened_on=date(2025, 7, 20)), [maintenance])
    assert [line.tariff for line in rating.lines] == [d("31")]


def test_norm_per_area_on_part_of_a_month() -> None:
    heating = Service(
        "heating",
        "",
        Unit.GCAL,
        Method.NORM_PER_AREA,
        tariffs=(flat("3000"),),
        norms=(norm("0.0205", NormKind.PER_AREA),),
    )
    (line,) = rated(account("heating", opened_on=date(2025, 7, 17)), [heating]).lines
    assert line.quantity == Decimal("0.538621")  # 54.30 × 0.0205 × 15 / 31 = 0.5386209…
    assert line.explanation.values["days"] == 15


def test_a_new_meter_after_a_tariff_change_only_meets_the_later_segment() -> None:
    change = date(2025, 7, 16)
    cold = metered_service(Resource.COLD_WATER, flat("10", end=change), flat("20", start=change))
    meters = [
        meter("old", Resource.COLD_WATER, removed_on=date(2025, 7, 20)),
        meter("new", Resource.COLD_WATER, installed_on=date(2025, 7, 20)),
    ]
    readings = [
        reading("old", date(2025, 6, 25), "0"),
        reading("old", date(2025, 7, 20), "6.2", kind=ReadingKind.FINAL),
        reading("new", date(2025, 7, 20), "0", kind=ReadingKind.INITIAL),
        reading("new", date(2025, 7, 25), "1"),
    ]
    rating = rated(account("cold_water"), [cold], meters, readings)
    # old: 6.200 over 15 + 4 days → 4.895 + 1.305; new: all 1 in the second segment
    assert quantities(rating) == [d("4.895"), d("2.305")]


def test_a_tariff_segment_no_meter_served_gets_no_line() -> None:
    change = date(2025, 7, 16)
    cold = metered_service(Resource.COLD_WATER, flat("10", end=change), flat("20", start=change))
    rating = rated(
        account("cold_water"),
        [cold],
        [meter("gone", Resource.COLD_WATER, removed_on=date(2025, 7, 10))],
        [
            reading("gone", date(2025, 6, 25), "0"),
            reading("gone", date(2025, 7, 10), "2", kind=ReadingKind.FINAL),
        ],
    )
    # 10–31 July are estimated for the removed meter (norm: no history, nobody registered)
    assert [(line.quantity, line.tariff) for line in rating.lines] == [
        (d("2"), d("10")),
        (d("0.000"), d("10")),
        (d("0.000"), d("20")),
    ]
    assert rating.issues == ()
