"""kvit.core.periods: billing months, day counts and proration segments (spec 1.6, 2.13;
example 14). No database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvit.core.dating import DateRange
from kvit.core.money import prorate, round2, to_decimal
from kvit.core.periods import (
    LAST_YEAR,
    Period,
    Segment,
    active_days,
    overlap_days,
    person_days,
    segments,
)

JULY = Period(2025, 7)

periods = st.builds(Period, st.integers(1, LAST_YEAR), st.integers(1, 12))
inner_periods = st.builds(Period, st.integers(2, LAST_YEAR - 1), st.integers(1, 12))


# --- Period -------------------------------------------------------------------------------


class TestPeriod:
    def test_parse_and_str_round_trip(self) -> None:
        assert Period.parse("2025-07") == JULY
        assert str(JULY) == "2025-07"
        assert str(Period(987, 1)) == "0987-01"

    @pytest.mark.parametrize(
        "text",
        [
            "2025-13",
            "2025-00",
            "2025-7",
            "25-07",
            "July",
            "2025/07",
            "2025-07-01",
            " 2025-07",
            "",
            "0000-01",
            "9999-01",
            "２０２５-07",
            "2025-0７",
        ],
    )
    def test_parse_refuses_anything_else(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"is not a billing period: expected 'YYYY-MM'"):
            Period.parse(text)

    @pytest.mark.parametrize(("year", "month"), [(2025, 0), (2025, 13), (0, 1), (LAST_YEAR + 1, 1)])
    def test_constructor_refuses_impossible_months(self, year: int, month: int) -> None:
        with pytest.raises(ValueError, match="no billing period"):
            Period(year, month)

    def test_days_and_bounds(self) -> None:
        assert JULY.days == 31
        assert JULY.first_day == date(2025, 7, 1)
        assert JULY.last_day == date(2025, 7, 31)
        assert JULY.end == date(2025, 8, 1)
        assert JULY.span == DateRange(date(2025, 7, 1), date(2025, 8, 1))

    @pytest.mark.parametrize(
        ("period", "days"),
        [
            (Period(2024, 2), 29),
            (Period(2025, 2), 28),
            (Period(1900, 2), 28),
            (Period(2000, 2), 29),
            (Period(2025, 4), 30),
            (Period(2025, 12), 31),
        ],
    )
    def test_days_follow_the_calendar(self, period: Period, days: int) -> None:
        assert period.days == days
        assert (period.end - period.first_day).days == days

    def test_next_and_previous_cross_the_year(self) -> None:
        assert Period(2025, 12).next() == Period(2026, 1)
        assert Period(2026, 1).previous() == Period(2025, 12)
        assert JULY.next() == Period(2025, 8)
        assert JULY.previous() == Period(2025, 6)
        assert Period(2025, 12).end == date(2026, 1, 1)

    def test_the_edges_of_the_calendar(self) -> None:
        assert Period(LAST_YEAR, 12).end == date(LAST_YEAR + 1, 1, 1)
        with pytest.raises(ValueError, match="no billing period"):
            Period(LAST_YEAR, 12).next()
        with pytest.raises(ValueError, match="no billing period"):
            Period(1, 1).previous()

    def test_of_a_date(self) -> None:
        assert Period.of(date(2025, 7, 16)) == JULY
        assert Period.of(date(2025, 7, 31)) == JULY
        assert Period.of(date(2025, 8, 1)) == Period(2025, 8)

    def test_orders_chronologically(self) -> None:
        unordered = [Period(2025, 1), Period(2024, 12), Period(2025, 10), Period(2025, 2)]
        assert [str(p) for p in sorted(unordered)] == ["2024-12", "2025-01", "2025-02", "2025-10"]
        assert Period(2024, 12) < Period(2025, 1) <= Period(2025, 1) < Period(2025, 10)

    def test_is_a_frozen_hashable_value(self) -> None:
        assert {Period(2025, 7), Period.parse("2025-07")} == {JULY}
        with pytest.raises(AttributeError):
            JULY.month = 8  # type: ignore[misc]


@given(inner_periods)
def test_next_and_previous_round_trip(period: Period) -> None:
    assert period.next().previous() == period
    assert period.previous().next() == period
    assert period.previous() < period < period.next()
    assert period.next().first_day == period.end
    assert period.previous().end == period.first_day


@given(periods)
def test_str_parse_round_trip(period: Period) -> None:
    assert Period.parse(str(period)) == period


@given(st.dates(max_value=date(LAST_YEAR, 12, 31)))
def test_every_date_lies_in_its_period(day: date) -> None:
    period = Period.of(day)
    assert period.first_day <= day <= period.last_day
    assert period.span.contains(day)
    assert 28 <= period.days <= 31


# --- segments -----------------------------------------------------------------------------


def span(start: date, end: date | None = None) -> DateRange:
    return DateRange(start, end)


class TestSegments:
    def test_no_boundary_is_the_whole_month(self) -> None:
        assert segments(JULY, []) == (Segment(JULY.span, 31),)

    def test_example_14_tariff_change_on_the_16th(self) -> None:
        old, new = segments(JULY, [date(2025, 7, 16)])
        assert old == Segment(span(date(2025, 7, 1), date(2025, 7, 16)), 15)  # d_old = c − 1
        assert new == Segment(span(date(2025, 7, 16), date(2025, 8, 1)), 16)  # d_new = D − c + 1

    def test_example_14_maintenance_via_segments(self) -> None:
        base = to_decimal("54.30")
        tariffs = {date(2025, 6, 1): to_decimal("33.40"), date(2025, 7, 16): to_decimal("36.10")}

        def tariff_on(day: date) -> Decimal:
            return tariffs[max(start for start in tariffs if start <= day)]

        parts = segments(JULY, tariffs)  # every effective date: the June one cuts nothing
        lines = [prorate(base * tariff_on(s.span.start), s.days, JULY.days) for s in parts]
        assert lines == [Decimal("877.56"), Decimal("1011.73")]
        assert sum(lines) == Decimal("1889.29")
        # the spec's formula, round2(Base × T × d / D), gives the same lines
        assert lines[0] == round2(base * to_decimal("33.40") * 15 / 31)
        assert lines[1] == round2(base * to_decimal("36.10") * 16 / 31)

    def test_boundaries_outside_on_the_first_or_repeated_cut_nothing(self) -> None:
        ignored = [date(2025, 6, 30), date(2025, 7, 1), date(2025, 8, 1), date(2025, 9, 1)]
        assert segments(JULY, ignored) == (Segment(JULY.span, 31),)
        twice = [date(2025, 7, 20), date(2025, 7, 10), date(2025, 7, 20)]
        assert [s.days for s in segments(JULY, twice)] == [9, 10, 12]

    def test_a_change_on_the_last_day_leaves_one_day(self) -> None:
        assert [s.days for s in segments(JULY, [date(2025, 7, 31)])] == [30, 1]

    def test_every_day_a_boundary(self) -> None:
        days = [JULY.first_day + timedelta(days=i) for i in range(31)]
        assert [s.days for s in segments(JULY, days)] == [1] * 31


@given(inner_periods, st.lists(st.integers(-40, 70), max_size=10), st.decimals(0, 10**5, places=4))
def test_segments_tile_the_period_and_prorate_to_the_whole(
    period: Period, offsets: list[int], amount: Decimal
) -> None:
    boundaries = [period.first_day + timedelta(days=offset) for offset in offsets]
    parts = segments(period, boundaries)
    assert sum(s.days for s in parts) == period.days
    assert parts[0].span.start == period.first_day
    assert parts[-1].span.end == period.end
    for before, after in pairwise(parts):
        assert before.span.end == after.span.start
    for part in parts:
        assert part.span.end is not None
        assert part.days == (part.span.end - part.span.start).days >= 1
    prorated = sum(prorate(amount, s.days, period.days) for s in parts)
    # each line is off by at most half a kopeck, so the lines stay within a kopeck per segment
    assert abs(prorated - amount) <= Decimal("0.005") * len(parts)


# --- active days and person-days ----------------------------------------------------------


class TestActiveDays:
    def test_open_all_month(self) -> None:
        assert active_days(JULY, date(2020, 1, 1), None) == 31
        assert active_days(JULY, date(2025, 7, 1), date(2025, 8, 1)) == 31

    def test_opened_mid_month_counts_the_opening_day(self) -> None:
        assert active_days(JULY, date(2025, 7, 16), None) == 16
        assert active_days(JULY, date(2025, 7, 31), None) == 1

    def test_closed_on_is_exclusive(self) -> None:
        # "closed from" the 16th: billed for the 1st to the 15th
        assert active_days(JULY, date(2020, 1, 1), date(2025, 7, 16)) == 15
        assert active_days(JULY, date(2020, 1, 1), date(2025, 7, 1)) == 0

    def test_opened_and_closed_inside_the_month(self) -> None:
        assert active_days(JULY, date(2025, 7, 10), date(2025, 7, 20)) == 10

    def test_outside_the_month(self) -> None:
        assert active_days(JULY, date(2025, 8, 1), None) == 0
        assert active_days(JULY, date(2025, 1, 1), date(2025, 6, 15)) == 0

    def test_closed_before_it_opened_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="must be after its start"):
            active_days(JULY, date(2025, 7, 10), date(2025, 7, 10))

    def test_prorated_month_charge(self) -> None:
        # spec 2.13: P = round2(Base × T × d_a / D) with Base × T not rounded beforehand
        month_base = to_decimal("54.30") * to_decimal("33.40")
        assert prorate(month_base, active_days(JULY, date(2025, 7, 16), None), JULY.days) == (
            Decimal("936.06")
        )


class TestPersonDays:
    def test_nobody(self) -> None:
        assert person_days(JULY, []) == 0

    def test_residents_change(self) -> None:
        spans = [
            span(date(2019, 3, 1)),  # all month: 31
            span(date(2025, 7, 11)),  # arrives on the 11th: 21
            span(date(2024, 1, 1), date(2025, 7, 21)),  # leaves from the 21st: 20
            span(date(2025, 8, 1)),  # next month: 0
        ]
        total = person_days(JULY, spans)
        assert total == 72
        # n_eff = 72 / 31 persons, unrounded; the norm volume is round3(norm × n_eff)
        norm = to_decimal("6.935")
        assert prorate(norm, total, JULY.days, places=3) == Decimal("16.107")

    def test_overlap_days_matches_counting_day_by_day(self) -> None:
        february = Period(2024, 2)
        stay = span(date(2024, 1, 20), date(2024, 2, 10))
        counted = sum(stay.contains(february.first_day + timedelta(days=i)) for i in range(29))
        assert overlap_days(february, stay) == counted == 9


@given(
    inner_periods,
    st.lists(st.tuples(st.integers(-40, 40), st.none() | st.integers(1, 80)), max_size=6),
)
def test_person_days_count_each_day_of_each_span(
    period: Period, drawn: list[tuple[int, int | None]]
) -> None:
    spans = [
        span(
            period.first_day + timedelta(days=start),
            None if length is None else period.first_day + timedelta(days=start + length),
        )
        for start, length in drawn
    ]
    days = [period.first_day + timedelta(days=i) for i in range(period.days)]
    expected = sum(s.contains(day) for s in spans for day in days)
    assert person_days(period, spans) == expected
    assert 0 <= expected <= period.days * len(spans)
