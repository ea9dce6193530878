"""kvit.core.ownership: the shares of a premise add up to one on every date (spec 1.5)."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from kvit.core.dating import DateRange
from kvit.core.ownership import Share, ShareMismatch, share_mismatches

D1, D2, D3, D4 = date(2024, 1, 1), date(2024, 3, 1), date(2024, 6, 1), date(2024, 9, 1)
BASE = date(2024, 1, 1)
HORIZON = 100  # every drawn date lies before BASE + HORIZON


def share(num: int, den: int, start: date, end: date | None = None) -> Share:
    return Share(num, den, DateRange(start, end))


def test_fraction_is_exact_and_reduced() -> None:
    assert share(2, 6, D1).fraction == Fraction(1, 3)
    assert share(3, 3, D1).fraction == 1


def test_no_shares_no_mismatches() -> None:
    assert share_mismatches([]) == []


def test_sole_owner_and_two_halves_are_fine() -> None:
    assert share_mismatches([share(1, 1, D1)]) == []
    assert share_mismatches([share(1, 2, D1), share(2, 4, D1)]) == []


def test_a_sale_with_adjacent_dates_is_fine() -> None:
    assert share_mismatches([share(1, 1, D1, D2), share(1, 1, D2)]) == []


def test_nothing_is_reported_before_the_first_or_after_the_last_share() -> None:
    assert share_mismatches([share(1, 1, D2, D3)]) == []


def test_a_stretch_adding_up_to_more_and_then_less_than_one() -> None:
    shares = [share(1, 2, D1), share(1, 3, D1, D2)]
    assert share_mismatches(shares) == [
        ShareMismatch(DateRange(D1, D2), Fraction(5, 6)),
        ShareMismatch(DateRange(D2), Fraction(1, 2)),
    ]


def test_a_gap_between_owners_counts_as_zero() -> None:
    shares = [share(1, 1, D1, D2), share(1, 1, D3, D4)]
    assert share_mismatches(shares) == [ShareMismatch(DateRange(D2, D3), Fraction(0))]


def test_neighbouring_stretches_with_the_same_total_are_one_mismatch() -> None:
    shares = [share(1, 3, D1, D2), share(1, 3, D2, D3), share(1, 1, D3)]
    assert share_mismatches(shares) == [ShareMismatch(DateRange(D1, D3), Fraction(1, 3))]


def test_same_total_separated_by_a_good_stretch_is_two_mismatches() -> None:
    shares = [share(1, 2, D1), share(1, 4, D1, D2), share(1, 2, D2, D3), share(1, 4, D3, D4)]
    assert share_mismatches(shares) == [
        ShareMismatch(DateRange(D1, D2), Fraction(3, 4)),
        ShareMismatch(DateRange(D3, D4), Fraction(3, 4)),
        ShareMismatch(DateRange(D4), Fraction(1, 2)),
    ]


# --- properties against a day-by-day brute force -----------------------------------------


def day(offset: int) -> date:
    return BASE + timedelta(days=offset)


@st.composite
def random_shares(draw: st.DrawFn) -> list[Share]:
    result = []
    for _ in range(draw(st.integers(1, 4))):
        den = draw(st.sampled_from([1, 2, 3, 4]))
        start = draw(st.integers(0, 40))
        length = draw(st.none() | st.integers(1, 40))
        end = None if length is None else day(start + length)
        result.append(Share(draw(st.integers(1, den)), den, DateRange(day(start), end)))
    return result


@st.composite
def consistent_shares(draw: st.DrawFn) -> list[Share]:
    """Adjacent stretches, each split among owners in parts that add up to one."""
    result = []
    start = draw(st.integers(0, 10))
    stretches = draw(st.integers(1, 4))
    for number in range(stretches):
        last = number == stretches - 1
        end = None if last and draw(st.booleans()) else start + draw(st.integers(1, 15))
        parts, left = [], Fraction(1)
        while left and len(parts) < 3:
            part = left if len(parts) == 2 else draw(st.sampled_from([left, left / 2, left / 3]))
            parts.append(part)
            left -= part
        span = DateRange(day(start), None if end is None else day(end))
        result += [Share(p.numerator, p.denominator, span) for p in parts]
        if end is None:
            break
        start = end
    return result


def daily_totals(shares: list[Share]) -> dict[date, Fraction]:
    """Brute force: the sum of shares held on each day from the first start to the last end
    (the horizon when a share is open-ended)."""
    first = min(s.span.start for s in shares)
    ends = [s.span.end for s in shares]
    last = day(HORIZON) if None in ends else max(e for e in ends if e is not None)
    totals = {}
    for offset in range((last - first).days):
        today = first + timedelta(days=offset)
        held = (
            Fraction(s.numerator, s.denominator)
            for s in shares
            if s.span.start <= today and (s.span.end is None or today < s.span.end)
        )
        totals[today] = sum(held, start=Fraction(0))
    return totals


@settings(max_examples=200, deadline=None)
@given(st.one_of(random_shares(), consistent_shares()))
def test_no_mismatch_exactly_when_every_owned_day_adds_up_to_one(shares: list[Share]) -> None:
    totals = daily_totals(shares)
    assert (share_mismatches(shares) == []) == all(t == 1 for t in totals.values())


@settings(max_examples=200, deadline=None)
@given(random_shares())
def test_mismatches_cover_exactly_the_wrong_days_with_their_totals(shares: list[Share]) -> None:
    totals = daily_totals(shares)
    found = share_mismatches(shares)
    covered: dict[date, Fraction] = {}
    for mismatch in found:
        end = mismatch.span.end or day(HORIZON)
        for offset in range((end - mismatch.span.start).days):
            covered[mismatch.span.start + timedelta(days=offset)] = mismatch.total
    assert covered == {d: t for d, t in totals.items() if t != 1}
    for before, after in pairwise(found):  # maximal stretches, in order
        assert before.span.end is not None and before.span.end <= after.span.start
        assert before.span.end < after.span.start or before.total != after.total


@given(consistent_shares())
def test_consistent_ownership_has_no_mismatch(shares: list[Share]) -> None:
    assert share_mismatches(shares) == []
