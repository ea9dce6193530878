"""Billing periods and the day counts of proration (spec conventions, 1.6, 2.13).

A billing period is a calendar month `YYYY-MM` with `D` days. Inside the engine every range
is half-open like `kvit.core.dating.DateRange` (docs/adr/0001-half-open-dates.md): the spec's
inclusive segments `[1, c−1]` and `[c, D]` of a change on day `c` become `[1st, c)` and
`[c, end)`, and an account's `closed_on` is already exclusive (spec 1.4). Only day counts
come out of here; turning them into money is `kvit.core.money.prorate`.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from kvit.core.dating import DateRange

FIRST_YEAR = 1
LAST_YEAR = 9998  # so that `end` of the last period, 1 January of the next year, is a date
_PERIOD_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One calendar month; orders chronologically (year, then month)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not FIRST_YEAR <= self.year <= LAST_YEAR or not 1 <= self.month <= 12:
            raise ValueError(
                f"no billing period year={self.year} month={self.month}: the month must be "
                f"1-12 and the year {FIRST_YEAR}-{LAST_YEAR}"
            )

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period written `YYYY-MM` ("2025-07"), the only form documents and files use."""
        found = _PERIOD_TEXT.fullmatch(text)
        if found is not None:
            with contextlib.suppress(ValueError):
                return cls(int(found[1]), int(found[2]))
        raise ValueError(
            f"{text!r} is not a billing period: expected 'YYYY-MM' (year "
            f"{FIRST_YEAR:04d}-{LAST_YEAR}, month 01-12), e.g. '2025-07'"
        )

    @classmethod
    def of(cls, day: date) -> Period:
        """The period `day` falls in."""
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def end(self) -> date:
        """The first day of the next period: the exclusive end of this one."""
        return self.last_day + timedelta(days=1)

    @property
    def days(self) -> int:
        """`D` of the spec: 28 to 31."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def span(self) -> DateRange:
        return DateRange(self.first_day, self.end)

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a period on which nothing changes; `days` is the length of `span`."""

    span: DateRange
    days: int


def segments(period: Period, boundaries: Iterable[date]) -> tuple[Segment, ...]:
    """The period cut at every change date inside it, in date order (spec 2.13).

    A boundary is the first day of the new state (a tariff's `effective_from`, the change day
    `c`). Boundaries on the 1st, outside the period or repeated cut nothing, so the caller
    may pass every effective date it has. The day counts add up to `D`.
    """
    first, end = period.first_day, period.end
    cuts = sorted({day for day in boundaries if first < day < end})
    return tuple(
        Segment(DateRange(start, stop), (stop - start).days)
        for start, stop in pairwise([first, *cuts, end])
    )


def overlap_days(period: Period, span: DateRange) -> int:
    """How many days of `period` fall inside the half-open `span` (open-ended: to the end)."""
    start = max(span.start, period.first_day)
    stop = period.end if span.end is None else min(span.end, period.end)
    return max((stop - start).days, 0)


def active_days(period: Period, opened_on: date, closed_on: date | None) -> int:
    """`d_a` of spec 2.13: days of the period the account is open.

    `opened_on` is inclusive and `closed_on` exclusive ("closed from", spec 1.4), so the
    spec's `[max(open, month_start), min(close − 1, month_end)]` is just an overlap.
    """
    return overlap_days(period, DateRange(opened_on, closed_on))


def person_days(period: Period, spans: Iterable[DateRange]) -> int:
    """Σ person-days of the period, one span per counted person (spec 1.6).

    `n_eff = person_days / D` stays unrounded; the volume `round3(norm × n_eff)` is
    `prorate(norm, person_days, D, 3)`. Who counts (permanent, temporary, actually living,
    owners when nobody does) is the caller's rule, not this helper's.
    """
    return sum(overlap_days(period, span) for span in spans)
