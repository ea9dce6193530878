"""The 12 billing periods the demo fills with readings, and date helpers for row values."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PERIODS = 12


@dataclass(frozen=True, slots=True)
class Period:
    index: int  # 0 = the oldest of the window
    first: date
    days: int

    @property
    def month(self) -> int:
        return self.first.month

    def day(self, number: int) -> date:
        return self.first.replace(day=min(number, self.days))


@dataclass(frozen=True, slots=True)
class Day:
    """A date with its texts precomputed: readings on one day share them."""

    date: date
    ordinal: int
    month: int
    iso: str
    stamps: tuple[str, ...]  # creation times on that day (naive UTC)


class Window:
    """The 12 calendar months before the month of the reference date."""

    def __init__(self, reference: date) -> None:
        self.reference = reference
        year, month = reference.year, reference.month
        firsts: list[date] = []
        for _ in range(PERIODS):
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            firsts.append(date(year, month, 1))
        firsts.reverse()
        self.periods = tuple(
            Period(i, first, calendar.monthrange(first.year, first.month)[1])
            for i, first in enumerate(firsts)
        )
        self._days: dict[date, Day] = {}
        self._spans: dict[tuple[int, int], tuple[tuple[Day, ...], ...]] = {}

    @classmethod
    def before(cls, reference: date) -> Window:
        return cls(reference)

    @property
    def start(self) -> date:
        return self.periods[0].first

    @property
    def end(self) -> date:
        """The first day after the window: the first day of the reference month."""
        return self.reference.replace(day=1)

    def day(self, day: date) -> Day:
        found = self._days.get(day)
        if found is None:
            text = day.isoformat()
            stamps = tuple(f"{text} {hour:02d}:{hour * 7 % 60:02d}:00" for hour in range(6, 18))
            found = self._days[day] = Day(day, day.toordinal(), day.month, text, stamps)
        return found

    def reading_days(self, first: int, last: int) -> tuple[tuple[Day, ...], ...]:
        """Per period, the days from `first` to `last` of the month."""
        key = (first, last)
        if key not in self._spans:
            self._spans[key] = tuple(
                tuple(self.day(p.day(n)) for n in range(first, last + 1)) for p in self.periods
            )
        return self._spans[key]


def iso(day: date) -> str:
    return day.isoformat()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def days_later(day: date, days: int) -> date:
    return day + timedelta(days=days)


def month_start(year: int, month: int) -> date:
    return date(year, month, 1)
