"""Due dates of monthly obligations and delay-day numbering (spec 3.1, 3.2).

Payment for period `p` is due by day `due_day` of the month after `p`. `due_day` is dated by
the **period** (its first day), not by the calendar date it falls on: 10 for periods up to and
including 2026-02, 15 from 2026-03 (the federal law in force 01.03.2026). Before March 2026
the 10th was only a default that a management contract or an HOA decision could change, so a
building may carry its own `due_day`; from 2026-03 on the law fixes the date and such an
override no longer applies (it is ignored for those periods, not reported: it stays valid for
the earlier ones). [DECISION] The date is not moved off weekends and holidays unless the
tenant sets `shift_due_date_to_business_day` (Civil Code art. 193), with the holiday calendar
as an input.

Delay day numbers: `k(t) = (t − due).days`, so the day after the due date is day 1.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from kvit.core.parameters import SPECS
from kvit.core.periods import Period

LEGAL_DUE_DAY_FROM = Period(2026, 3)
"""The first period whose due day the law fixes: building overrides stop applying here."""

_DUE_DAY_SPEC = SPECS["due_day"]
_SMALLEST_DUE_DAY = 1
_LARGEST_DUE_DAY = 28  # every month has it; the `due_day` parameter has the same bounds
_SATURDAY = 5


def _check_day(day: int, what: str) -> None:
    if isinstance(day, bool) or not isinstance(day, int):
        raise TypeError(f"{what} must be a whole day of the month, got {day!r}")
    if not _SMALLEST_DUE_DAY <= day <= _LARGEST_DUE_DAY:
        raise ValueError(
            f"{what} must be {_SMALLEST_DUE_DAY}-{_LARGEST_DUE_DAY} (a day every month has), "
            f"got {day}"
        )


def _default_steps() -> tuple[tuple[date, int], ...]:
    return tuple((start, int(text)) for start, text in _DUE_DAY_SPEC.defaults)


@dataclass(frozen=True, slots=True)
class DueDayRule:
    """`due_day` by period: effective-dated steps plus an optional per-building override.

    `steps` are `(effective_from, due_day)` pairs in strictly increasing date order, the first
    from `date.min`; a period takes the step in effect on its first day (the same reading as
    `SPECS["due_day"].default_on(period.first_day)`). The defaults are the parameter's
    defaults: 10, then 15 from the 2026-03 period. `building_override` (a management contract
    or HOA decision) replaces the step for periods before `LEGAL_DUE_DAY_FROM` only.
    """

    steps: tuple[tuple[date, int], ...] = _default_steps()
    building_override: int | None = None

    def __post_init__(self) -> None:
        if not self.steps or self.steps[0][0] != date.min:
            raise ValueError("the first due_day step must apply from date.min")
        for index, (_start, day) in enumerate(self.steps):
            _check_day(day, f"steps[{index}] due_day")
        starts = [start for start, _day in self.steps]
        if any(later <= earlier for earlier, later in pairwise(starts)):
            raise ValueError("due_day steps must be in strictly increasing date order")
        if self.building_override is not None:
            _check_day(self.building_override, "building_override")

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[date, str]], building_override: str | None = None
    ) -> DueDayRule:
        """Built from the stored text form: `(effective_from, text)` rows of `due_day` (as in
        `ParameterSpec.defaults` or a tenant's overrides) and a building's override text."""
        parse = _DUE_DAY_SPEC.parse
        return cls(
            steps=tuple((start, int(parse(text))) for start, text in rows),
            building_override=None if building_override is None else int(parse(building_override)),
        )

    def day_for(self, period: Period) -> int:
        """The due day of `period` (spec 3.1)."""
        if self.building_override is not None and period < LEGAL_DUE_DAY_FROM:
            return self.building_override
        chosen = self.steps[0][1]
        for start, day in self.steps:
            if start <= period.first_day:
                chosen = day
        return chosen


def is_business_day(
    day: date, holidays: Collection[date] = frozenset(), workdays: Collection[date] = frozenset()
) -> bool:
    """Not a Saturday, Sunday or holiday; `workdays` are weekend days made working days by a
    transfer (the Russian production calendar moves some Saturdays)."""
    if day in holidays:
        return False
    return day.weekday() < _SATURDAY or day in workdays


def next_business_day(
    day: date, holidays: Collection[date] = frozenset(), workdays: Collection[date] = frozenset()
) -> date:
    """`day` itself when it is a business day, else the first business day after it (Civil
    Code art. 193). Ends: a finite holiday set cannot cover every weekday."""
    while not is_business_day(day, holidays, workdays):
        day += timedelta(days=1)
    return day


def due_date(
    period: Period,
    due_day_rule: DueDayRule | None = None,
    shift_to_business_day: bool = False,
    holidays: Collection[date] = frozenset(),
    *,
    workdays: Collection[date] = frozenset(),
) -> date:
    """The date payment for `period` is due (spec 3.1): day `due_day` of the next month,
    moved to the next business day only when `shift_to_business_day` is set."""
    rule = DueDayRule() if due_day_rule is None else due_day_rule
    following = period.next()
    due = date(following.year, following.month, rule.day_for(period))
    return next_business_day(due, holidays, workdays) if shift_to_business_day else due


def delay_day(due: date, number: int) -> date:
    """The calendar date of delay day `number` (day 1 is the day after `due`)."""
    return due + timedelta(days=number)


def delay_day_number(due: date, day: date) -> int:
    """`k(t) = (t − due).days`: 1 on the day after the due date, 0 or less up to it."""
    return (day - due).days
