"""kvit.core.dating: half-open date ranges, overlap detection and breakpoints (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvit.core.dating import DateRange, Overlap, breakpoints, find_overlaps, first_difference

JAN1, FEB1, MAR1, APR1 = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)
BASE = date(2024, 1, 1)
HORIZON = 120  # days after BASE that every drawn start and end lies before


def days_of(span: DateRange) -> set[date]:
    """Brute force: the days of `span`, open-ended ranges cut at BASE + HORIZON."""
    last = span.end or BASE + timedelta(days=HORIZON)
    return {span.start + timedelta(days=i) for i in range((last - span.start).days)}


spans = st.builds(
    lambda start, length: DateRange(
        BASE + timedelta(days=start),
        None if length is None else BASE + timedelta(days=start + length),
    ),
    st.integers(0, 60),
    st.none() | st.integers(1, 40),
)


class TestDateRange:
    @pytest.mark.parametrize("end", [JAN1, JAN1 - timedelta(days=1)])
    def test_end_must_be_after_start(self, end: date) -> None:
        with pytest.raises(ValueError, match=f"{end}.*after.*{JAN1}"):
            DateRange(JAN1, end)

    def test_one_day_range_and_open_range_are_valid(self) -> None:
        assert DateRange(JAN1, JAN1 + timedelta(days=1)).end == date(2024, 1, 2)
        assert DateRange(JAN1).end is None

    def test_start_is_inclusive_end_is_exclusive(self) -> None:
        span = DateRange(JAN1, FEB1)
        assert span.contains(JAN1)
        assert span.contains(date(2024, 1, 31))
        assert not span.contains(FEB1)
        assert not span.contains(date(2023, 12, 31))

    def test_open_range_contains_every_later_day(self) -> None:
        span = DateRange(FEB1)
        assert span.contains(date(2999, 12, 31))
        assert not span.contains(JAN1)

    @pytest.mark.parametrize(
        ("first", "second", "expected"),
        [
            (DateRange(JAN1, FEB1), DateRange(FEB1, MAR1), False),  # adjacent
            (DateRange(JAN1, FEB1), DateRange(MAR1, APR1), False),  # apart
            (DateRange(JAN1, MAR1), DateRange(FEB1, APR1), True),  # partial
            (DateRange(JAN1, APR1), DateRange(FEB1, MAR1), True),  # nested
            (DateRange(JAN1), DateRange(MAR1, APR1), True),  # open first
            (DateRange(JAN1, FEB1), DateRange(FEB1), False),  # open second, adjacent
            (DateRange(JAN1, MAR1), DateRange(FEB1), True),  # open second
            (DateRange(JAN1), DateRange(APR1), True),  # both open
        ],
    )
    def test_overlaps_is_symmetric(
        self, first: DateRange, second: DateRange, expected: bool
    ) -> None:
        assert first.overlaps(second) is expected
        assert second.overlaps(first) is expected

    @given(spans, spans)
    def test_overlaps_agrees_with_shared_days(self, first: DateRange, second: DateRange) -> None:
        assert first.overlaps(second) == bool(days_of(first) & days_of(second))

    @given(spans, st.integers(-5, HORIZON - 1))
    def test_contains_agrees_with_days(self, span: DateRange, offset: int) -> None:
        day = BASE + timedelta(days=offset)
        assert span.contains(day) == (day in days_of(span))


class TestFindOverlaps:
    def test_nothing_given_nothing_found(self) -> None:
        assert find_overlaps([]) == []

    def test_adjacent_rows_do_not_overlap(self) -> None:
        rows = [("b", DateRange(FEB1)), ("a", DateRange(JAN1, FEB1))]
        assert find_overlaps(rows) == []

    def test_pairs_in_start_order(self) -> None:
        rows = [
            ("late", DateRange(MAR1)),
            ("early", DateRange(JAN1, APR1)),
            ("middle", DateRange(FEB1, MAR1)),
        ]
        assert find_overlaps(rows) == [Overlap("early", "middle"), Overlap("early", "late")]

    def test_an_open_range_overlaps_everything_after_it(self) -> None:
        rows = [(1, DateRange(JAN1)), (2, DateRange(FEB1, MAR1)), (3, DateRange(APR1))]
        assert find_overlaps(rows) == [Overlap(1, 2), Overlap(1, 3)]

    @settings(max_examples=200, deadline=None)
    @given(st.lists(spans, max_size=7))
    def test_agrees_with_brute_force(self, ranges: list[DateRange]) -> None:
        found = find_overlaps(list(enumerate(ranges)))
        pairs = [frozenset((o.first, o.second)) for o in found]
        expected = {
            frozenset((i, j))
            for i in range(len(ranges))
            for j in range(i + 1, len(ranges))
            if days_of(ranges[i]) & days_of(ranges[j])
        }
        assert len(pairs) == len(set(pairs)), "a pair was reported twice"
        assert set(pairs) == expected
        for overlap in found:
            assert ranges[overlap.first].start <= ranges[overlap.second].start


class TestBreakpoints:
    def test_sorted_distinct_starts_and_ends(self) -> None:
        ranges = [DateRange(FEB1, APR1), DateRange(JAN1, FEB1), DateRange(FEB1)]
        assert breakpoints(ranges) == [JAN1, FEB1, APR1]

    def test_no_ranges(self) -> None:
        assert breakpoints([]) == []

    @given(st.lists(spans, min_size=1, max_size=6))
    def test_applicable_ranges_only_change_at_breakpoints(self, ranges: list[DateRange]) -> None:
        points = set(breakpoints(ranges))
        for offset in range(1, HORIZON):
            day = BASE + timedelta(days=offset)
            before = {i for i, r in enumerate(ranges) if r.contains(day - timedelta(days=1))}
            today = {i for i, r in enumerate(ranges) if r.contains(day)}
            if before != today:
                assert day in points


class TestFirstDifference:
    @pytest.mark.parametrize(
        ("before", "after", "same", "day"),
        [
            (None, None, True, None),
            (None, DateRange(FEB1), True, FEB1),  # added
            (DateRange(JAN1, MAR1), None, True, JAN1),  # removed
            (DateRange(FEB1), DateRange(FEB1), True, None),  # unchanged
            (DateRange(FEB1), DateRange(FEB1), False, FEB1),  # another value, same dates
            (DateRange(FEB1), DateRange(JAN1), False, JAN1),
            (DateRange(FEB1, APR1), DateRange(JAN1, APR1), True, JAN1),  # moved earlier
            (DateRange(JAN1), DateRange(JAN1, MAR1), True, MAR1),  # ended (a move out)
            (DateRange(JAN1, MAR1), DateRange(JAN1, FEB1), True, FEB1),  # ended earlier
            (DateRange(JAN1, FEB1), DateRange(JAN1, APR1), True, FEB1),  # extended
        ],
    )
    def test_cases(
        self, before: DateRange | None, after: DateRange | None, same: bool, day: date | None
    ) -> None:
        assert first_difference(before, after, same) == day

    @given(st.none() | spans, st.none() | spans)
    def test_no_day_before_it_differs(
        self, before: DateRange | None, after: DateRange | None
    ) -> None:
        day = first_difference(before, after, same=True)
        for offset in range(HORIZON):
            today = BASE + timedelta(days=offset)
            had = before is not None and before.contains(today)
            differs = had != (after is not None and after.contains(today))
            if day is None or today < day:
                assert not differs
            elif today == day:
                assert differs
